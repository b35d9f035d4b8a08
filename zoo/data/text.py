"""An offline English corpus for the text models: the King James Bible and gensim's Wikipedia sample.

Each source is a plain-text file looked for in `ZOO_DATA_DIR` (or its `text/`), then the user
cache; when absent it is built once from the installed sources (Debian's `bible-kjv`, the
`gensim` package's test data) and written to the cache. Every source is cut at whitespace into
a contiguous 90% / 5% / 5% train / validation / test piece, so each split holds both kinds of
English; a split is its sources' pieces joined by a blank line.
"""
from __future__ import annotations

import bz2
import hashlib
import os
import re
import shutil
import subprocess
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from zoo import settings
from zoo.data.errors import DataNotFoundError
from zoo.i18n import t

NAME = "kjv-wikipedia"
"""the corpus's name in a card's `dataset` field"""
SPLITS = ("train", "validation", "test")
SHARES = (0.90, 0.05, 0.05)
JOIN = "\n\n"
WIKI_DUMP = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
SOURCES = {
    "kjv": "King James Bible from Debian's bible-kjv (`bible -f gen1:1-rev22:21`), "
           "one verse per line, verse references removed",
    "wikipedia": f"English Wikipedia sample in gensim 4.4.0's test data ({WIKI_DUMP}), "
                 "article text without markup, redirects dropped, articles separated by a blank line",
}
UNKNOWN = "\ufffd"
"""id 0 of every vocabulary: stands for any character the vocabulary lacks"""
_VERSE_REFERENCE = re.compile(r"^[1-3]?[A-Za-z]+\d+:\d+ ", re.M)
_WHITESPACE = re.compile(r"\s")
_HEADING = re.compile(r"^=+\s*(.*?)\s*=+$", re.M)


def cache_dir() -> Path:
    return settings.cache_dir("text")


def search_dirs() -> list[Path]:
    """Where a built source file (`kjv.txt`, `wikipedia.txt`) is looked for, in order."""
    return [*settings.data_dirs("text"), cache_dir()]


@lru_cache(maxsize=None)
def load_source(name: str) -> str:
    """One source's whole text: read from the first search dir that has it, else built and cached."""
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCES)}")
    for directory in search_dirs():
        if (directory / f"{name}.txt").is_file():
            return (directory / f"{name}.txt").read_text(encoding="utf-8")
    text = _build_kjv() if name == "kjv" else _build_wikipedia()
    target = cache_dir() / f"{name}.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")  # another process may be building it too
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
    return text


def _build_kjv() -> str:
    bible = shutil.which("bible")
    if bible is None:
        raise DataNotFoundError(t("text.corpus.no_bible", looked=_looked()))
    done = subprocess.run([bible, "-f", "gen1:1-rev22:21"], capture_output=True, text=True,
                          encoding="utf-8", stdin=subprocess.DEVNULL, timeout=120)
    if done.returncode != 0 or not done.stdout.strip():
        raise DataNotFoundError(t("text.corpus.bible_failed", error=done.stderr.strip() or t("text.corpus.no_output")))
    return _VERSE_REFERENCE.sub("", done.stdout).strip() + "\n"


def _build_wikipedia() -> str:
    try:
        from gensim.corpora.wikicorpus import extract_pages, filter_wiki
        from gensim.test.utils import datapath
    except ImportError as error:
        raise DataNotFoundError(t("text.corpus.no_gensim", looked=_looked())) from error
    dump = Path(datapath(WIKI_DUMP))
    if not dump.is_file():
        raise DataNotFoundError(t("text.corpus.no_wiki_dump", path=dump))
    with bz2.open(dump) as xml:
        pages = [markup for _, markup, _ in extract_pages(xml, filter_namespaces=("0",))
                 if not markup.lstrip().lower().startswith("#redirect")]
    articles = [_plain_text(filter_wiki(markup)) for markup in pages]
    return JOIN.join(article for article in articles if article) + "\n"


def _plain_text(text: str) -> str:
    """What filter_wiki leaves, minus bold/italic quotes, heading marks, list bullets and table rows."""
    text = _HEADING.sub(r"\1", re.sub(r"'{2,}", "", text))
    lines = [" ".join(re.sub(r"^[*#:;]+", "", line).split()) for line in text.splitlines()]
    kept = "\n".join(line for line in lines if not any(mark in line for mark in "|{}"))
    return re.sub(r"\n{3,}", JOIN, kept).strip()


def _looked() -> str:
    return ", ".join(str(d) for d in search_dirs())


def _cuts(text: str) -> list[int]:
    """The 0 / train end / validation end / len offsets of a source, each moved to the next whitespace."""
    cuts, share = [0], 0.0
    for fraction in SHARES[:-1]:
        share += fraction
        found = _WHITESPACE.search(text, round(share * len(text)))
        cuts.append(found.start() if found else len(text))
    return cuts + [len(text)]


@lru_cache(maxsize=None)
def load(split: str = "train") -> str:
    """The 'train', 'validation' or 'test' text: each source's piece of that split, in SOURCES order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    index = SPLITS.index(split)
    pieces = []
    for name in SOURCES:
        text = load_source(name)
        cuts = _cuts(text)
        pieces.append(text[cuts[index]:cuts[index + 1]])
    return JOIN.join(pieces)


@lru_cache(maxsize=1)
def splits_info() -> dict:
    """Sources, split sizes and boundaries, and sha256 digests: what a card records about its data."""
    texts = {name: load_source(name) for name in SOURCES}
    return {
        "name": NAME,
        "sha256": hashlib.sha256(JOIN.join(texts.values()).encode("utf-8")).hexdigest(),
        "sources": {name: {"description": SOURCES[name], "characters": len(text), "words": len(text.split()),
                           "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
                    for name, text in texts.items()},
        "splits": {split: {"share": share, "characters": len(load(split)), "words": len(load(split).split()),
                           "ranges": {name: _cuts(text)[i:i + 2] for name, text in texts.items()}}
                   for i, (split, share) in enumerate(zip(SPLITS, SHARES))},
        "join": JOIN,
    }


class Vocab:
    """Characters <-> ids for the character models; id 0 is UNKNOWN, which stands for any other character."""

    def __init__(self, chars: str):
        if not chars.startswith(UNKNOWN) or len(set(chars)) != len(chars):
            raise ValueError("a vocabulary is UNKNOWN followed by distinct characters")
        self.chars = chars
        points = np.array([ord(ch) for ch in chars], dtype=np.uint32)
        self._order = np.argsort(points)
        self._sorted_points = points[self._order]

    @classmethod
    def build(cls, text: str, min_count: int = 20) -> Vocab:
        """Every character seen at least `min_count` times in `text`, sorted; rarer ones become UNKNOWN,
        so a few stray symbols in the corpus do not each get an output the model never learns."""
        counts = Counter(text)
        return cls(UNKNOWN + "".join(sorted(ch for ch, n in counts.items() if n >= min_count and ch != UNKNOWN)))

    def __len__(self) -> int:
        return len(self.chars)

    def __str__(self) -> str:
        """The characters in id order: what a card's `vocab` holds; `Vocab(str(vocab))` rebuilds it."""
        return self.chars

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and other.chars == self.chars

    def encode(self, text: str) -> torch.Tensor:
        """LongTensor (len(text),) of ids; characters outside the vocabulary get 0 (UNKNOWN)."""
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        at = np.searchsorted(self._sorted_points, points).clip(max=len(self.chars) - 1)
        ids = np.where(self._sorted_points[at] == points, self._order[at], 0)
        return torch.from_numpy(ids.astype(np.int64))

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        """The characters of a 1-D sequence of ids."""
        return "".join(self.chars[i] for i in torch.as_tensor(ids).tolist())

    def replace_unknown(self, text: str) -> str:
        """`text` as the models see it: characters outside the vocabulary replaced by UNKNOWN."""
        return self.decode(self.encode(text))


def steps_per_epoch(n_ids: int, batch_size: int, seq_len: int) -> int:
    """How many `batches` make one pass over `n_ids` ids; 0 when the text is too short."""
    return max(0, (n_ids - seq_len) // batch_size // seq_len)


def batches(ids: torch.Tensor, batch_size: int, seq_len: int, seed: int = 0,
            start_step: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (x, y) LongTensor (B, T) pairs, y being each x shifted one character on.

    The ids are cut into `batch_size` equally long streams read left to right, `seq_len` at a
    time, so row b of a batch continues row b of the one before within an epoch (a recurrent
    model may carry its state over). Epoch e starts at a random offset below `seq_len` drawn
    from seed + e, so chunk borders move between epochs. Starting at `start_step` gives exactly
    the batches a run would have seen from there, so an interrupted run resumes on the same data.
    """
    per_epoch = steps_per_epoch(len(ids), batch_size, seq_len)
    if per_epoch == 0:
        raise ValueError(f"{len(ids)} characters are too few for batches of {batch_size} x {seq_len}; "
                         f"at least {(batch_size + 1) * seq_len} are needed")
    stream = (len(ids) - seq_len) // batch_size
    step = start_step
    while True:
        epoch, index = divmod(step, per_epoch)
        offset = torch.randint(seq_len, (), generator=torch.Generator().manual_seed(seed + epoch))
        starts = offset + torch.arange(batch_size) * stream + index * seq_len
        positions = starts[:, None] + torch.arange(seq_len)[None, :]  # (B, T)
        yield ids[positions], ids[positions + 1]
        step += 1
