"""Word vectors as a word2vec text-format file: written for download, and read back from an
upload with a clear error for every way such a file can be wrong."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from zoo import uploads
from zoo.i18n import t

if TYPE_CHECKING:  # gensim is imported where it is used: the registry imports every package
    from gensim.models import KeyedVectors


def to_word2vec_text(kv: KeyedVectors) -> bytes:
    """The vectors in word2vec text format: a "<words> <dimensions>" header, then one
    "word x1 x2 ..." line per word, most frequent first (what gensim's
    `KeyedVectors.load_word2vec_format(path)` and most tools read)."""
    rows = (w + " " + " ".join(f"{x:.6g}" for x in v) for w, v in zip(kv.index_to_key, kv.vectors.tolist()))
    return (f"{len(kv)} {kv.vector_size}\n" + "\n".join(rows) + "\n").encode("utf-8")


@dataclass(frozen=True)
class VectorLimits:
    max_words: int = 200_000
    max_dimensions: int = 1000


def read_word2vec_text(data: bytes, name: str = "vectors.txt", limits: VectorLimits = VectorLimits()) -> KeyedVectors:
    """Parse an uploaded word2vec text-format file into KeyedVectors, or raise UploadError saying
    exactly what is wrong (size over ZOO_MAX_UPLOAD_MB, binary, header, a line's word count or
    numbers, duplicates). Never unpickles anything."""
    from gensim.models import KeyedVectors
    if name.lower().endswith(".bin"):
        raise uploads.UploadError(t("word2vec.upload_error.binary", name=name))
    content = uploads.decode_text(data, name, uploads.limits().max_upload_bytes, ".txt or .vec")
    lines = content.splitlines()
    header = lines[0].split() if lines else []
    if len(header) != 2 or not all(part.isdigit() for part in header):
        raise uploads.UploadError(t("word2vec.upload_error.header", name=name, line=repr(lines[0][:60])))
    count, dims = map(int, header)
    if not 2 <= count <= limits.max_words or not 1 <= dims <= limits.max_dimensions:
        raise uploads.UploadError(t("word2vec.upload_error.size", name=name, count=count, dims=dims,
                                    max_words=limits.max_words, max_dims=limits.max_dimensions))
    body = [(i, line) for i, line in enumerate(lines[1:], start=2) if line.strip()]
    if len(body) != count:
        raise uploads.UploadError(t("word2vec.upload_error.count", name=name, count=count, lines=len(body)))
    words, array, seen = [], np.empty((count, dims), dtype=np.float32), {}
    for row, (number, line) in enumerate(body):
        word, *values = line.split()
        if len(values) != dims:
            raise uploads.UploadError(t("word2vec.upload_error.numbers", name=name, line=number, word=repr(word[:30]),
                                        found=len(values), dims=dims))
        try:
            array[row] = np.array(values, dtype=np.float32)
        except ValueError:
            bad = next(v for v in values if not _is_number(v))
            raise uploads.UploadError(t("word2vec.upload_error.not_a_number", name=name, line=number,
                                        word=repr(word[:30]), value=repr(bad[:20]))) from None
        if word in seen:
            raise uploads.UploadError(t("word2vec.upload_error.twice", name=name, word=repr(word[:30]), first=seen[word],
                                        line=number))
        seen[word] = number
        words.append(word)
    if not np.isfinite(array).all():
        row = int(np.nonzero(~np.isfinite(array).all(1))[0][0])
        raise uploads.UploadError(t("word2vec.upload_error.not_finite", name=name, line=body[row][0],
                                    word=repr(words[row][:30])))
    kv = KeyedVectors(dims, count=0)
    kv.add_vectors(words, array)
    kv.fill_norms()
    return kv


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
