"""Validation of what a person uploads: images, zips of class folders, text (and the text of a
time-series CSV, which `zoo.data.series` reads).

Every failure becomes an `UploadError` whose text is one sentence to show the person as is, in their
language (zoo/i18n/uploads.toml), never a traceback. Limits come from `ZOO_MAX_*` environment variables
(see `limits`), read on every call so a server can tighten them without a code change.
"""
from __future__ import annotations

import io
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from zoo import i18n, settings
from zoo.i18n import t

ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
"""PIL format ids we open; phones' multi-picture JPEGs open through JPEG as "MPO"."""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".bmp", ".webp", ".tif", ".tiff")
_ACCEPTED = ", ".join(ACCEPTED_FORMATS)
_MB = 1024 * 1024
_JUNK_NAMES = {".ds_store", "thumbs.db"}
_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[\\/]")
MIN_DISTINCT_CHARS = 3
"""an uploaded text needs this many different non-space characters: one repeated letter teaches nothing"""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
"""control characters that plain text does not hold (tab, newlines and form feed are fine)"""


MAX_SIDE = 1024
"""uploads are decoded at most this many pixels a side: no page uses more than a few hundred"""


class UploadError(ValueError):
    """An upload we refuse; str() is a short sentence for the person who uploaded it."""


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may hold; see `limits` for where each value comes from."""
    max_upload_bytes: int
    """largest single file: ZOO_MAX_UPLOAD_MB, default 10"""
    max_pixels: int
    """largest image but a JPEG by width x height, checked from the header: ZOO_MAX_PIXELS, default 16M.
    Decoded whole, it costs up to 9 bytes a pixel on the way down (a transparent palette: indices, RGBA,
    premultiplied RGBA): about 150 MB and under a second at 16M (a 5K screenshot is 14.7M)"""
    max_jpeg_pixels: int
    """largest JPEG by width x height, checked from the header: ZOO_MAX_JPEG_PIXELS, default 50M (a phone's
    largest ordinary photo). Decoded at 1/2 to 1/8 scale, a baseline JPEG costs little at any size; a
    progressive one holds all its coefficients, about 3 bytes a pixel: 150 MB at 48M"""
    max_zip_bytes: int
    """largest total unpacked size of a zip: ZOO_MAX_ZIP_MB, default 50"""
    max_zip_files: int
    """most files in a zip: ZOO_MAX_ZIP_FILES, default 2000"""
    max_zip_pixels: int
    """most pixels the images of a zip decode to, all together, read from their headers: ZOO_MAX_ZIP_PIXELS,
    default 600M"""
    max_text_bytes: int
    """largest .txt file: ZOO_MAX_TEXT_MB, default 2"""
    max_series_rows: int
    """most rows of a time-series CSV that are used (the last ones): ZOO_MAX_SERIES_ROWS, default 100,000"""


def limits() -> UploadLimits:
    """The limits in force now, from the environment; unset or blank variables keep the default."""
    return UploadLimits(
        max_upload_bytes=int(settings.number("ZOO_MAX_UPLOAD_MB", 10) * _MB),
        max_pixels=int(settings.number("ZOO_MAX_PIXELS", 16_000_000)),
        max_jpeg_pixels=int(settings.number("ZOO_MAX_JPEG_PIXELS", 50_000_000)),
        max_zip_bytes=int(settings.number("ZOO_MAX_ZIP_MB", 50) * _MB),
        max_zip_files=int(settings.number("ZOO_MAX_ZIP_FILES", 2000)),
        max_zip_pixels=int(settings.number("ZOO_MAX_ZIP_PIXELS", 600_000_000)),
        max_text_bytes=int(settings.number("ZOO_MAX_TEXT_MB", 2) * _MB),
        max_series_rows=int(settings.number("ZOO_MAX_SERIES_ROWS", 100_000)),
    )


def load_image(data: bytes, name: str = "upload", max_side: int = MAX_SIDE) -> Image.Image:
    """Open an uploaded image and return it decoded at most `max_side` pixels a side, upright, first
    frame only, in mode "RGB" or "L" (transparency composited on white), or raise UploadError saying why not.

    The pixel limit is checked from the header, before anything is decoded. A JPEG is decoded
    already shrunk (by DCT scaling, up to 8 times a side); other formats are shrunk right after
    decoding, before any conversion, so no full-size copy is ever made in a wider mode."""
    limit = limits()
    if not data:
        raise UploadError(t("uploads.empty", name=name))
    if len(data) > limit.max_upload_bytes:
        raise UploadError(t("uploads.too_large", name=name, size=_size(len(data)),
                            limit=_size(limit.max_upload_bytes)))
    with _decoding(name), Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as opened:
        _check_pixels(opened, name, limit)
        image = ImageOps.exif_transpose(_shrink(opened, max_side))  # a copy: frame 0 alone, upright
    return to_rgb_or_l(image, name)


@contextmanager
def _decoding(name: str) -> Iterator[None]:
    """Turn whatever reading image `name` raises into one UploadError: PIL's parsers raise many
    unrelated exception types on hostile or damaged input, and every one is the file's fault."""
    try:
        yield
    except UploadError:
        raise
    except Image.DecompressionBombError as error:
        raise UploadError(t("uploads.decompression_bomb", name=name)) from error
    except UnidentifiedImageError as error:
        raise UploadError(t("uploads.not_an_accepted_format", name=name, formats=_ACCEPTED)) from error
    except MemoryError as error:
        raise UploadError(t("uploads.out_of_memory", name=name)) from error
    except Exception as error:
        raise UploadError(t("uploads.damaged_image", name=name)) from error


def _check_pixels(opened: Image.Image, name: str, limit: UploadLimits) -> None:
    """Refuse an image whose header declares more pixels than its format's limit allows."""
    width, height = opened.size
    max_pixels = limit.max_jpeg_pixels if opened.format in ("JPEG", "MPO") else limit.max_pixels
    if width * height > max_pixels:
        raise UploadError(t("uploads.too_many_pixels", name=name, width=width, height=height, limit=max_pixels))


def _draft(opened: Image.Image, max_side: int) -> None:
    """Make a JPEG decode at the smallest DCT scale whose longest side still reaches `max_side` (its
    `size` says so at once); other formats decode at full size."""
    width, height = opened.size
    scale = min(1.0, max_side / max(width, height))
    opened.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))


_INDEXED = {"1": "L", "P": "RGB", "PA": "RGBA"}
"""modes whose values are bits or palette indices, which cannot be averaged, and the mode they shrink in"""


def _shrink(opened: Image.Image, max_side: int) -> Image.Image:
    """The opened image decoded and shrunk to at most `max_side` a side, in its own mode (palettes and
    bilevel in the colours they show). A JPEG is decoded at the smallest DCT scale (1/2 to 1/8) that
    keeps `max_side`; the rest is averaged over whole blocks (`reduce`), then over boxes for the rest of
    the way: 3 times cheaper than one fair box average from full size (10 times than bicubic), and as good
    for pictures shown or used at a few hundred pixels."""
    _draft(opened, max_side)
    image = opened
    if image.mode in _INDEXED:
        image = image.convert("RGBA" if image.has_transparency_data else _INDEXED[image.mode])
    # PIL's whole-factor reduce has no 16-bit kernel; resampling straight from full size has one
    image.thumbnail((max_side, max_side), Image.Resampling.BOX,
                    reducing_gap=None if image.mode.startswith("I;16") else 1.0)
    return image


def to_rgb_or_l(image: Image.Image, name: str | None = None) -> Image.Image:
    """Bring any PIL mode to "RGB" or "L": alpha and transparent colours over white, palettes
    and CMYK to RGB, bilevel to L, and 16/32-bit or float greyscale scaled to 8-bit L."""
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        return _deep_grey_to_l(image)
    grey = mode in ("1", "L", "LA", "La")
    if image.has_transparency_data:
        return _over_white(image, "L" if grey else "RGB")
    if mode in ("RGB", "L"):
        return image
    try:
        return image.convert("L" if grey else "RGB")
    except ValueError as error:  # a mode PIL has no conversion for
        raise UploadError(t("uploads.colour_mode", name=name or t("uploads.the_image"), mode=mode)) from error


def _over_white(image: Image.Image, mode: str) -> Image.Image:
    with_alpha = image.convert(mode + "A")
    white = Image.new(mode + "A", image.size, "white")
    return Image.alpha_composite(white, with_alpha).convert(mode)


def _deep_grey_to_l(image: Image.Image) -> Image.Image:
    """Unsigned 16-bit keeps its absolute brightness (value / 65535); signed, 32-bit and float
    data have no fixed white, so the range actually used is stretched to 0..255."""
    values = np.nan_to_num(np.asarray(image, dtype=np.float32))
    if image.mode.startswith("I;16") and not image.mode.endswith("S"):
        scaled = values / 65535
    else:
        low, high = values.min(), values.max()
        scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return Image.fromarray(np.round(scaled * 255).astype(np.uint8))


CLASS_IMAGE_SIDE = 256
"""images of a zip are kept in grey and at most this many pixels a side, 64 KB each: the zoo makes 28x28
greyscale pictures of them. On 300 photo-like scenes the shipped CNN was as accurate on pictures cleaned
from 256 pixels (83.0%) as from 1,024 (82.7%), less so from 160 (81.0%)"""


@dataclass
class ClassFolders:
    """Images read from a zip of class folders, ready to fine-tune a classifier on."""
    images: list[Image.Image]
    """each one as `load_image` returns it, shrunk to `max_side`, in grey (mode "L")"""
    labels: list[int]
    """index into `classes` for each image"""
    classes: list[str]
    """folder names, sorted"""


def read_class_folders(
    data: bytes,
    name: str = "upload.zip",
    min_classes: int = 2,
    max_classes: int = 10,
    min_per_class: int = 1,
    max_side: int = CLASS_IMAGE_SIDE,
) -> ClassFolders:
    """Read a zip with one folder of images per class, at the top (`cat/1.jpg`) or under one
    common root (`pets/cat/1.jpg`), entirely in memory; raise UploadError on anything off.

    Paths, encryption, file count and unpacked size are checked from the central directory, and
    the pixels every image decodes to from its header, before any image is decoded; macOS and
    Windows junk files are skipped silently. Each image is decoded at most `max_side` pixels a
    side (`load_image`) and kept in grey, so neither a few huge images nor many small ones can
    fill the memory."""
    limit = limits()
    if len(data) > limit.max_zip_bytes + limit.max_zip_files * 4096:  # no zip within the limits is this big
        raise UploadError(t("uploads.zip_too_large", name=name, size=_size(len(data)),
                            limit=_size(limit.max_zip_bytes)))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as error:  # zipfile raises several types on damaged input
        raise UploadError(t("uploads.not_a_zip", name=name)) from error
    with archive:
        members = _check_directory(archive, name, limit)
        by_class = _group_by_class(members, name)
        classes = sorted(by_class)
        _check_class_counts(by_class, classes, name, min_classes, max_classes, min_per_class)
        ordered = [(label, info) for label, folder in enumerate(classes)
                   for info in sorted(by_class[folder], key=lambda info: info.filename)]
        _check_decoded_pixels(archive, [info for _, info in ordered], name, limit, max_side)
        images = [_load_member(archive, info, name, max_side).convert("L") for _, info in ordered]
    return ClassFolders(images=images, labels=[label for label, _ in ordered], classes=classes)


def _check_directory(archive: zipfile.ZipFile, name: str, limit: UploadLimits) -> list[zipfile.ZipInfo]:
    """The zip's file entries, after refusing escaping paths, encryption and oversize."""
    for info in archive.infolist():
        path = info.filename
        if path.startswith(("/", "\\")) or _DRIVE.match(path) or ".." in _SEPARATORS.split(path):
            raise UploadError(t("uploads.path_outside", name=name, path=path))
        if info.flag_bits & 0x1:
            raise UploadError(t("uploads.password", name=name, path=path))
    files = [info for info in archive.infolist() if not info.is_dir()]
    if len(files) > limit.max_zip_files:
        raise UploadError(t("uploads.too_many_files", name=name, count=len(files), limit=limit.max_zip_files))
    unpacked = sum(info.file_size for info in files)
    if unpacked > limit.max_zip_bytes:
        raise UploadError(t("uploads.unpacks_too_large", name=name, size=_size(unpacked),
                            limit=_size(limit.max_zip_bytes)))
    return files


def _group_by_class(members: list[zipfile.ZipInfo], name: str) -> dict[str, list[zipfile.ZipInfo]]:
    """Map class folder -> image entries, dropping junk and one common root folder if present."""
    images: list[tuple[list[str], zipfile.ZipInfo]] = []
    for info in members:
        parts = [part for part in _SEPARATORS.split(info.filename) if part not in ("", ".")]
        if not parts or _is_junk(parts):
            continue
        if not parts[-1].lower().endswith(IMAGE_SUFFIXES):
            raise UploadError(t("uploads.not_an_image_in_zip", member=info.filename, name=name, formats=_ACCEPTED))
        images.append((parts, info))
    if not images:
        raise UploadError(t("uploads.no_images", name=name))
    if len({parts[0] for parts, _ in images}) == 1 and any(len(parts) > 2 for parts, _ in images):
        images = [(parts[1:], info) for parts, info in images]
    by_class: dict[str, list[zipfile.ZipInfo]] = {}
    for parts, info in images:
        if len(parts) == 1:
            raise UploadError(t("uploads.outside_class_folder", member=info.filename, name=name))
        if len(parts) > 2:
            raise UploadError(t("uploads.sub_folder", member=info.filename, name=name))
        by_class.setdefault(parts[0], []).append(info)
    return by_class


def _is_junk(parts: list[str]) -> bool:
    """Files that macOS and Windows add to zips behind the person's back."""
    return "__MACOSX" in parts or parts[-1].startswith("._") or parts[-1].lower() in _JUNK_NAMES


def _check_class_counts(
    by_class: dict[str, list[zipfile.ZipInfo]],
    classes: list[str],
    name: str,
    min_classes: int,
    max_classes: int,
    min_per_class: int,
) -> None:
    if len(classes) < min_classes:
        raise UploadError(t("uploads.too_few_classes", name=name, min=min_classes, count=len(classes),
                            classes=", ".join(classes)))
    if len(classes) > max_classes:
        raise UploadError(t("uploads.too_many_classes", name=name, count=len(classes), max=max_classes))
    for folder in classes:
        count = len(by_class[folder])
        if count < min_per_class:
            raise UploadError(t("uploads.class_too_small", folder=folder, name=name,
                                images=i18n.count("uploads.images", count), min=min_per_class))


def _check_decoded_pixels(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], name: str,
                          limit: UploadLimits, max_side: int) -> None:
    """Refuse the zip when one image is over its pixel limit, or all of them together decode to more
    than ZOO_MAX_ZIP_PIXELS (a JPEG at the DCT scale `load_image` decodes it at), reading only headers."""
    total = 0
    for info in members:
        with _member(archive, info, name) as stream, \
                _decoding(t("uploads.in_zip_member", name=name, member=info.filename)), \
                Image.open(stream, formats=ACCEPTED_FORMATS) as opened:
            _check_pixels(opened, t("uploads.member_of_zip", member=info.filename, name=name), limit)
            _draft(opened, max_side)
            total += opened.width * opened.height
    if total > limit.max_zip_pixels:
        raise UploadError(t("uploads.zip_too_many_pixels", name=name, total=total, limit=limit.max_zip_pixels))


@contextmanager
def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Iterator[zipfile.ZipExtFile]:
    """One member of the zip as a stream; a member that cannot be unpacked becomes an UploadError."""
    try:
        stream = archive.open(info)
    except Exception as error:  # unsupported compression, a bad local header
        raise _damaged(info, name) from error
    with stream:
        yield stream


def _damaged(info: zipfile.ZipInfo, name: str) -> UploadError:
    return UploadError(t("uploads.member_damaged", member=info.filename, name=name))


def _load_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, max_side: int) -> Image.Image:
    try:
        data = archive.read(info)
    except Exception as error:  # bad CRC, unsupported compression, truncated data
        raise _damaged(info, name) from error
    try:
        return load_image(data, name=info.filename, max_side=max_side)
    except UploadError as error:
        raise UploadError(t("uploads.in_zip", name=name, error=error)) from error


def load_text(data: bytes, name: str = "upload.txt") -> str:
    """Decode an uploaded .txt file to a str with "\\n" line ends, or raise UploadError saying why not.

    UTF-8 first (a byte-order mark is dropped), else Windows-1252 (what most files called Latin-1
    really are: Latin-1 plus curly quotes and dashes), else Latin-1 itself, which never fails.
    Refused: another suffix, a file that is empty, over ZOO_MAX_TEXT_MB, binary (see
    `decode_text`), only whitespace, or fewer than MIN_DISTINCT_CHARS different characters."""
    if not name.lower().endswith(".txt"):
        raise UploadError(t("uploads.not_txt", name=name))
    text = decode_text(data, name, limits().max_text_bytes, ".txt")
    if not text.strip():
        raise UploadError(t("uploads.blank_text", name=name))
    distinct = sorted({ch for ch in text if not ch.isspace()})
    if len(distinct) == 1:
        raise UploadError(t("uploads.one_character", name=name, character=repr(distinct[0])))
    if len(distinct) < MIN_DISTINCT_CHARS:
        raise UploadError(t("uploads.few_characters", name=name, count=len(distinct),
                            characters=", ".join(map(repr, distinct))))
    return text


def decode_text(data: bytes, name: str, max_bytes: int, suffix: str) -> str:
    """Bytes to str (UTF-8, else Windows-1252, else Latin-1) with "\\n" line ends. Binary means a NUL
    byte, or control characters in over 1% of the text: neither occurs in text a person saved."""
    if not data:
        raise UploadError(t("uploads.empty", name=name))
    if len(data) > max_bytes:
        raise UploadError(t("uploads.text_too_large", name=name, size=_size(len(data)), limit=_size(max_bytes),
                            suffix=suffix))
    binary = UploadError(t("uploads.binary", name=name, suffix=suffix))
    if b"\x00" in data:
        raise binary
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:  # one of the five bytes Windows-1252 leaves undefined
            text = data.decode("latin-1")
    if len(_CONTROL.findall(text)) > 0.01 * len(text):
        raise binary
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _size(n_bytes: int) -> str:
    """A file's size as the reader's language writes it: 1.5 MB, 12.0 KB, 300 bytes."""
    if n_bytes >= _MB:
        return t("uploads.size.mb", size=n_bytes / _MB)
    if n_bytes >= 1024:
        return t("uploads.size.kb", size=n_bytes / 1024)
    return t("uploads.size.bytes", size=n_bytes)
