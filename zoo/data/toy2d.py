"""Two-dimensional toy data sets for the MLP playground and the GAN toy game, and a person's own CSV of points.

Generators are seeded numpy (no scikit-learn) and return `Points`: float32 coordinates (N, 2)
and int64 labels (N,). `noise` is the standard deviation of Gaussian jitter in the data's
units; every set spans roughly [-1.5, 1.5] on both axes.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np
import torch

from zoo.i18n import t
from zoo.uploads import UploadError

MAX_ROWS = 5000
"""a CSV with more rows is cut to a random MAX_ROWS of them (and the person is told)"""
MAX_CLASSES = 10
MIN_ROWS = 4
MAX_CSV_BYTES = 5 * 1024 * 1024
_MISSING = {"", "na", "nan", "n/a", "null", "none", "?", "-"}


class CSVError(UploadError):
    """A CSV of points we refuse; str() is one sentence for the person who uploaded it."""


@dataclass(frozen=True)
class Points:
    """Labelled points in the plane."""
    x: np.ndarray
    """float32 (N, 2) coordinates"""
    y: np.ndarray
    """int64 (N,) class indices 0 .. n_classes - 1"""
    classes: tuple[str, ...]
    """a name per class"""
    note: str | None = None
    """something the person should know about how their data was read, e.g. rows dropped"""

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.y)


def _points(x: np.ndarray, y: np.ndarray, n_classes: int, rng: np.random.Generator, noise: float) -> Points:
    x = x + rng.normal(0.0, noise, size=x.shape)
    order = rng.permutation(len(y))  # no class sorted first: a batch taken from the front is mixed
    return Points(x[order].astype(np.float32), y[order].astype(np.int64), tuple(str(c) for c in range(n_classes)))


def _per_class(n: int, k: int) -> list[int]:
    return [n // k + (i < n % k) for i in range(k)]


def two_moons(n: int = 400, noise: float = 0.1, seed: int = 0) -> Points:
    """Two interleaving half circles."""
    rng = np.random.default_rng(seed)
    n0, n1 = _per_class(n, 2)
    t0, t1 = rng.uniform(0, math.pi, n0), rng.uniform(0, math.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], 1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)
    x = (np.concatenate([upper, lower]) - [0.5, 0.25]) * 0.95
    return _points(x, np.repeat([0, 1], [n0, n1]), 2, rng, noise)


def circles(n: int = 400, noise: float = 0.1, seed: int = 0) -> Points:
    """A disc of one class inside a ring of the other."""
    rng = np.random.default_rng(seed)
    n_inner, n_outer = _per_class(n, 2)
    radius = np.concatenate([rng.uniform(0, 0.5, n_inner), rng.uniform(0.9, 1.3, n_outer)])
    angle = rng.uniform(0, 2 * math.pi, n)
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
    return _points(x, np.repeat([0, 1], [n_inner, n_outer]), 2, rng, noise)


def spiral(n: int = 400, noise: float = 0.1, seed: int = 0, n_classes: int = 2) -> Points:
    """`n_classes` arms winding out from the centre, one per class."""
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for c, count in enumerate(_per_class(n, n_classes)):
        r = np.sqrt(rng.uniform(0.0025, 1, count)) * 1.4  # uniform density along the arm
        theta = 5.5 * r + 2 * math.pi * c / n_classes  # about one and a quarter turns
        parts.append(np.stack([r * np.sin(theta), r * np.cos(theta)], 1))
        labels.append(np.full(count, c))
    return _points(np.concatenate(parts), np.concatenate(labels), n_classes, rng, noise)


def xor(n: int = 400, noise: float = 0.1, seed: int = 0) -> Points:
    """Four squares: the class is whether x and y have the same sign."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.3, 1.3, (n, 2))
    x += np.sign(x) * 0.05  # a thin empty margin along the axes
    return _points(x, (x[:, 0] * x[:, 1] < 0).astype(np.int64), 2, rng, noise)


def blobs(n: int = 400, noise: float = 0.1, seed: int = 0, n_classes: int = 3) -> Points:
    """One Gaussian cloud per class, centres evenly spaced on a circle."""
    rng = np.random.default_rng(seed)
    counts = _per_class(n, n_classes)
    angle = 2 * math.pi * np.arange(n_classes) / n_classes + math.pi / 2
    centres = 0.9 * np.stack([np.cos(angle), np.sin(angle)], 1)
    labels = np.repeat(np.arange(n_classes), counts)
    x = centres[labels] + rng.normal(0.0, 0.25, (n, 2))
    return _points(x, labels, n_classes, rng, noise)


RING_RADIUS = 1.2


def ring_centres(k: int = 8) -> np.ndarray:
    """The (k, 2) centres of `ring`'s Gaussians."""
    angle = 2 * math.pi * np.arange(k) / k
    return RING_RADIUS * np.stack([np.cos(angle), np.sin(angle)], 1)


def ring(n: int = 400, noise: float = 0.05, seed: int = 0, n_classes: int = 8) -> Points:
    """`n_classes` small Gaussians evenly spaced on a circle of radius RING_RADIUS, one class each
    (the GAN toy game's target: a generator that collapses misses some). Not in GENERATORS: the
    MLP playground has Gaussian blobs for that."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), _per_class(n, n_classes))
    return _points(ring_centres(n_classes)[labels], labels, n_classes, rng, noise)


GENERATORS = {"Two moons": two_moons, "Circles": circles, "Spiral": spiral, "XOR": xor, "Gaussian blobs": blobs}
"""the sets by their codes (a page's option values, kept in links); a reader sees `set_name(code)`"""
_NAME_KEYS = {"Two moons": "moons", "Circles": "circles", "Spiral": "spiral", "XOR": "xor", "Gaussian blobs": "blobs"}
MULTICLASS = {"Spiral", "Gaussian blobs"}
"""the sets that take an `n_classes` argument"""


def set_name(code: str) -> str:
    """The toy set `code` (a key of GENERATORS) as the reader's language names it."""
    return t(f"toy2d.set.{_NAME_KEYS[code]}")


def make(name: str, n: int = 400, noise: float = 0.1, seed: int = 0, n_classes: int | None = None) -> Points:
    """The toy set called `name` (a key of GENERATORS)."""
    if name not in GENERATORS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(GENERATORS)}")
    if n < 2:
        raise ValueError("a data set needs at least 2 points")
    if name in MULTICLASS and n_classes is not None:
        if not 2 <= n_classes <= MAX_CLASSES:
            raise ValueError(f"n_classes must be between 2 and {MAX_CLASSES}")
        return GENERATORS[name](n, noise, seed, n_classes=n_classes)
    return GENERATORS[name](n, noise, seed)


def split(points: Points, test_share: float = 0.3, seed: int = 0) -> tuple[Points, Points]:
    """Train and test points; each class with 2+ points gives `test_share` of them (at least one) to test."""
    if not 0 < test_share < 1:
        raise ValueError("test_share must be between 0 and 1")
    rng = np.random.default_rng(seed)
    test = np.zeros(len(points), dtype=bool)
    for c in range(points.n_classes):
        members = rng.permutation(np.nonzero(points.y == c)[0])
        if len(members) >= 2:
            test[members[:min(len(members) - 1, max(1, round(test_share * len(members))))]] = True
    part = lambda mask: Points(points.x[mask], points.y[mask], points.classes, points.note)
    return part(~test), part(test)


def read_csv(data: bytes, name: str = "points.csv", max_rows: int = MAX_ROWS) -> Points:
    """Points from a CSV of `x, y, label` rows (a header row is optional; comma, semicolon or tab).

    Labels may be whole numbers or names. Raises CSVError for anything we cannot use as is:
    not text, missing values, text where a number belongs, too few rows, one class, too many
    classes, a file over MAX_CSV_BYTES. More than `max_rows` rows are cut to a random
    `max_rows` before any is split, said in `Points.note`: only those are checked and used.
    """
    if not data.strip():
        raise CSVError(t("toy2d.csv.empty", name=name))
    if len(data) > MAX_CSV_BYTES:
        raise CSVError(t("toy2d.csv.too_big", name=name, mb=len(data) / 2 ** 20, limit=MAX_CSV_BYTES // 2 ** 20,
                         rows=max_rows))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CSVError(t("toy2d.csv.not_utf8", name=name)) from None
    if "\x00" in text:
        raise CSVError(t("toy2d.csv.not_text", name=name))
    lines = [line for line in text.splitlines() if line.strip()]
    delimiter = max([",", ";", "\t"], key=lines[0].count)
    head = next(csv.reader(lines[:1], delimiter=delimiter))
    first_line = 1
    if not (_number(head[0]) is not None and len(head) > 1 and _number(head[1]) is not None):
        lines, first_line = lines[1:], 2  # a header: its x or y is not a number
    if len(lines) < MIN_ROWS:
        raise CSVError(t(f"toy2d.csv.few_rows.{'one' if len(lines) == 1 else 'other'}", name=name, rows=len(lines),
                         min_rows=MIN_ROWS))
    numbers, note = range(len(lines)), None
    if len(lines) > max_rows:
        numbers = np.sort(np.random.default_rng(0).permutation(len(lines))[:max_rows]).tolist()
        note = t("toy2d.csv.sampled", name=name, rows=len(lines), used=max_rows)
    rows = csv.reader([lines[i] for i in numbers], delimiter=delimiter)
    coords, labels = np.empty((len(numbers), 2)), []
    for k, (i, row) in enumerate(zip(numbers, rows)):
        line = i + first_line
        if len(row) != 3:
            raise CSVError(t(f"toy2d.csv.columns.{'one' if len(row) == 1 else 'other'}", line=line, name=name,
                             columns=len(row)))
        for j, column in enumerate(("x", "y")):
            cell = row[j].strip()
            if cell.lower() in _MISSING:
                raise CSVError(t("toy2d.csv.missing_value", line=line, name=name, column=column))
            value = _number(cell)
            if value is None or not math.isfinite(value):
                raise CSVError(t("toy2d.csv.not_a_number", line=line, name=name, column=column, cell=cell[:20]))
            coords[k, j] = value
        label = row[2].strip()
        if label.lower() in _MISSING:
            raise CSVError(t("toy2d.csv.missing_label", line=line, name=name))
        labels.append(label)
    y, classes = _encode_labels(labels, name)
    return Points(coords.astype(np.float32), y, classes, note)


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _encode_labels(labels: list[str], name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices and names: whole-number labels sort numerically, names alphabetically."""
    numbers = [_number(label) for label in labels]
    if all(v is not None for v in numbers):
        if not all(math.isfinite(v) and v == int(v) for v in numbers):
            bad = next(label for label, v in zip(labels, numbers) if not (math.isfinite(v) and v == int(v)))
            raise CSVError(t("toy2d.csv.fractional_label", name=name, label=bad))
        values = [int(v) for v in numbers]
        classes = sorted(set(values))
        names = tuple(str(c) for c in classes)
    else:
        values = labels
        classes = sorted(set(labels))
        names = tuple(classes)
    if len(classes) < 2:
        raise CSVError(t("toy2d.csv.one_class", name=name, label=names[0]))
    if len(classes) > MAX_CLASSES:
        raise CSVError(t("toy2d.csv.many_classes", name=name, classes=len(classes), max_classes=MAX_CLASSES))
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v] for v in values], dtype=np.int64), names


def lattice(bounds: tuple[float, float, float, float], size: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """Axis values and the (size * size, 2) points of a lattice over `bounds`, row-major from y0 up."""
    xs = np.linspace(bounds[0], bounds[1], size, dtype=np.float32)
    ys = np.linspace(bounds[2], bounds[3], size, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))
