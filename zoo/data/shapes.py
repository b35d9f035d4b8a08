"""Synthetic segmentation scenes, generated in code: circles, squares and triangles on textured,
noisy backgrounds, each scene with its integer mask per pixel. Deterministic from a seed, numpy only.

A scene's mask is the drawing itself: every shape is rasterised once as a set of pixels, those
pixels take its fill in the image and its class in the mask, and a later shape overwrites an
earlier one in both. Noise is added to the image afterwards and never changes the mask.

Classes are 0 for the background and 1.. for `kinds` in order, so the shipped kinds are
circle 1, square 2, triangle 3; a fine-tune may add one of `EXTRA_KINDS` as class 4.
Held-out scenes use seeds from `HELD_OUT_SEED` on; training seeds stay below it.
The kinds are codes (in masks, cards and metric names); `display_names` gives a reader their names.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from zoo import i18n

BASE_KINDS = ("circle", "square", "triangle")
"""the kinds the shipped model segments, classes 1..3"""
EXTRA_KINDS = ("star", "cross")
"""kinds a fine-tune can teach it as a new class"""
KINDS = BASE_KINDS + EXTRA_KINDS
HELD_OUT_SEED = 1_000_000
"""held-out scene i has seed HELD_OUT_SEED + i; training seeds are 0 .. HELD_OUT_SEED - 1"""
N_HELD_OUT = 500
DEFAULT_SIZE = 64
DEFAULT_SHAPES = (2, 5)
DEFAULT_NOISE = 0.08
"""standard deviation of the Gaussian pixel noise the shipped model is trained and measured at"""
MAX_SHAPES = 12
MIN_VISIBLE = 0.5
"""a new shape may hide at most half of any shape drawn before it, so every shape stays recognisable"""
MIN_PIXELS = 12
"""a shape must cover at least this many pixels of the image"""
_ATTEMPTS = 30


@dataclass(frozen=True)
class Shape:
    """One drawn shape: its kind, centre and equal-area radius in pixels, rotation, fill."""
    kind: str
    cx: float
    cy: float
    radius: float
    """every kind at the same radius covers the same area, a disc's of that radius"""
    angle: float
    fill: float


@dataclass(frozen=True)
class Scene:
    """An image and its mask, and how it was drawn."""
    image: np.ndarray
    """float32 (H, W) in [0, 1]"""
    mask: np.ndarray
    """uint8 (H, W): 0 background, 1 + kinds.index(kind) inside a shape"""
    shapes: tuple[Shape, ...]
    """in drawing order: later ones occlude earlier ones"""
    kinds: tuple[str, ...]


def class_names(kinds: tuple[str, ...] = BASE_KINDS) -> tuple[str, ...]:
    """The name of each mask value: background, then the kinds."""
    return ("background",) + tuple(kinds)


def display_name(name: str) -> str:
    """A class's name (background or a kind) in the reader's language."""
    return i18n.t(f"shapes.kind.{name}")


def display_names(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Each class's name (as `class_names` gives them) in the reader's language."""
    return tuple(display_name(name) for name in names)


def listed(items: list[str] | tuple[str, ...]) -> str:
    """Items as the reader's language lists them: "circles, squares and triangles"."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return i18n.t("shapes.list", items=i18n.t("shapes.separator").join(items[:-1]), last=items[-1])


def kinds_listed(kinds: tuple[str, ...] | list[str]) -> str:
    """The kinds named in the plural and listed, for a sentence about many of them: "circles, squares and triangles"."""
    return listed([i18n.t(f"shapes.plural.{kind}") for kind in kinds])


def _regular(n: int, phase: float = math.pi / 2) -> np.ndarray:
    """The n vertices of a regular polygon on the unit circle, counter-clockwise."""
    t = phase + 2 * math.pi * np.arange(n) / n
    return np.stack([np.cos(t), np.sin(t)], 1)


def _star_parts(points: int = 5, inner: float = 0.45) -> list[np.ndarray]:
    """A star as convex pieces: its inner pentagon and one triangle per tip."""
    tips, hollows = _regular(points), inner * _regular(points, math.pi / 2 + math.pi / points)
    return [hollows] + [np.stack([hollows[i - 1], tips[i], hollows[i]]) for i in range(points)]


def _rectangle(half_w: float, half_h: float) -> np.ndarray:
    return np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])


@lru_cache(maxsize=None)
def _unit_parts(kind: str) -> tuple[tuple[np.ndarray, ...], float]:
    """The convex pieces (counter-clockwise vertices) of a kind at circumradius 1, and the scale that
    gives it a unit disc's area (pi), so every kind of the same radius covers as many pixels."""
    parts, area = {
        "square": ([_regular(4, math.pi / 4)], 2.0),
        "triangle": ([_regular(3)], 3 * math.sqrt(3) / 4),
        "star": (_star_parts(), 5 * 0.45 * math.sin(math.pi / 5)),  # 10 triangles centre-tip-hollow
        "cross": ([_rectangle(1, 0.33), _rectangle(0.33, 1)], 2 * 2 * 0.66 - 0.66 ** 2),
    }[kind]
    return tuple(_counter_clockwise(p) for p in parts), math.sqrt(math.pi / area)


def _counter_clockwise(vertices: np.ndarray) -> np.ndarray:
    x, y = vertices[:, 0], vertices[:, 1]
    signed_area = np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    return vertices if signed_area > 0 else vertices[::-1]


@lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres: x and y (size, size) as float32, read-only."""
    y, x = (np.mgrid[0:size, 0:size] + 0.5).astype(np.float32)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def rasterise(kind: str, cx: float, cy: float, radius: float, angle: float, size: int) -> np.ndarray:
    """The pixels (size, size) whose centres lie inside the shape: a bool array."""
    x, y = _grid(size)
    dx, dy = x - np.float32(cx), y - np.float32(cy)
    if kind == "circle":
        return dx * dx + dy * dy <= radius * radius
    parts, scale = _unit_parts(kind)
    cos, sin = math.cos(angle), math.sin(angle)
    u = (dx * cos + dy * sin) / (radius * scale)  # the shape's own frame, circumradius 1
    v = (-dx * sin + dy * cos) / (radius * scale)
    inside = np.zeros((size, size), dtype=bool)
    for vertices in parts:
        here = np.ones((size, size), dtype=bool)
        for (x0, y0), (x1, y1) in zip(vertices, np.roll(vertices, -1, axis=0)):
            here &= (x1 - x0) * (v - y0) - (y1 - y0) * (u - x0) >= 0  # left of every edge
        inside |= here
    return inside


def _texture(rng: np.random.Generator, size: int) -> tuple[np.ndarray, float]:
    """A background: a level, a smooth random field and faint stripes; returns it and its level."""
    level = rng.uniform(0.3, 0.7)
    coarse = rng.normal(0.0, 1.0, (5, 5)).astype(np.float32)
    field = np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC))
    field = field / (np.abs(field).max() + 1e-6)
    x, y = _grid(size)
    theta, period = rng.uniform(0, math.pi), rng.uniform(3, 10)
    stripes = np.sin(2 * math.pi * (x * math.cos(theta) + y * math.sin(theta)) / period + rng.uniform(0, 2 * math.pi))
    background = level + rng.uniform(0.05, 0.15) * field + rng.uniform(0.0, 0.08) * stripes
    return background.astype(np.float32), level


def _check(size: int, n_shapes: tuple[int, int], noise: float, kinds: tuple[str, ...]) -> None:
    if not 16 <= size <= 512:
        raise ValueError(f"size must be between 16 and 512 pixels, got {size}")
    low, high = n_shapes
    if not 0 <= low <= high <= MAX_SHAPES:
        raise ValueError(f"n_shapes must be a range (low, high) with 0 <= low <= high <= {MAX_SHAPES}, got {n_shapes}")
    if not 0 <= noise <= 1:
        raise ValueError(f"noise must be between 0 and 1, got {noise}")
    unknown = [kind for kind in kinds if kind not in KINDS]
    if not kinds or unknown or len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must be distinct names from {', '.join(KINDS)}; got {', '.join(kinds) or 'none'}")


def scene(seed: int, size: int = DEFAULT_SIZE, n_shapes: int | tuple[int, int] = DEFAULT_SHAPES,
          noise: float = DEFAULT_NOISE, kinds: tuple[str, ...] = BASE_KINDS) -> Scene:
    """The scene of `seed`: a textured background and `n_shapes` (a count, or an inclusive range to
    draw it from) shapes of `kinds`, overlapping but each at least half visible, plus pixel noise."""
    n_shapes = (n_shapes, n_shapes) if isinstance(n_shapes, int) else tuple(n_shapes)
    kinds = tuple(kinds)
    _check(size, n_shapes, noise, kinds)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng(seed)
    image, level = _texture(rng, size)
    mask = np.zeros((size, size), dtype=np.uint8)
    owner = np.full((size, size), -1, dtype=np.int16)  # which drawn shape each pixel shows
    areas: list[int] = []
    shapes: list[Shape] = []
    for _ in range(rng.integers(n_shapes[0], n_shapes[1] + 1)):
        for _ in range(_ATTEMPTS):
            kind = kinds[rng.integers(len(kinds))]
            radius = rng.uniform(0.09, 0.19) * size
            cx, cy = rng.uniform(0.5 * radius, size - 0.5 * radius, 2)
            angle = rng.uniform(0, 2 * math.pi)
            region = rasterise(kind, cx, cy, radius, angle, size)
            if region.sum() < MIN_PIXELS:
                continue
            hidden = np.bincount(owner[region & (owner >= 0)], minlength=len(areas))
            visible = np.bincount(owner[owner >= 0], minlength=len(areas))
            if np.all(visible - hidden >= MIN_VISIBLE * np.asarray(areas, dtype=float)):
                break
        else:
            continue  # no room left for another shape: the scene has fewer
        contrast = rng.uniform(0.2, 0.45) * (1 if rng.random() < 0.5 else -1)
        fill = level + contrast if 0.02 <= level + contrast <= 0.98 else level - contrast
        shade = rng.uniform(-0.08, 0.08) / radius
        image[region] = fill + shade * (_grid(size)[0][region] - cx)  # a little shading across it
        mask[region] = kinds.index(kind) + 1
        owner[region] = len(areas)
        areas.append(int(region.sum()))
        shapes.append(Shape(kind, float(cx), float(cy), float(radius), float(angle), float(fill)))
    if noise:
        image += rng.normal(0.0, noise, (size, size)).astype(np.float32)
    return Scene(np.clip(image, 0, 1).astype(np.float32), mask, tuple(shapes), kinds)


def scenes(seeds, size: int = DEFAULT_SIZE, n_shapes: int | tuple[int, int] = DEFAULT_SHAPES,
           noise: float = DEFAULT_NOISE, kinds: tuple[str, ...] = BASE_KINDS) -> tuple[np.ndarray, np.ndarray]:
    """Images float32 (N, H, W) and masks uint8 (N, H, W) of the scenes of `seeds`."""
    drawn = [scene(int(s), size, n_shapes, noise, kinds) for s in seeds]
    if not drawn:
        raise ValueError("no seeds given")
    return np.stack([d.image for d in drawn]), np.stack([d.mask for d in drawn])


def training_seeds(n: int, offset: int = 0) -> range:
    """`n` training seeds from `offset`, all below the held-out ones."""
    if n < 1 or offset < 0 or offset + n > HELD_OUT_SEED:
        raise ValueError(f"training seeds must lie in 0 .. {HELD_OUT_SEED - 1}")
    return range(offset, offset + n)


@lru_cache(maxsize=8)
def held_out(n: int = N_HELD_OUT, size: int = DEFAULT_SIZE, noise: float = DEFAULT_NOISE,
             kinds: tuple[str, ...] = BASE_KINDS) -> tuple[np.ndarray, np.ndarray]:
    """The fixed held-out scenes (the first `n` of them): seeds HELD_OUT_SEED, HELD_OUT_SEED + 1, ...
    Drawn once a process and read-only, since every evaluation reads the same ones."""
    if not 1 <= n <= HELD_OUT_SEED:
        raise ValueError(f"n must be between 1 and {HELD_OUT_SEED}, got {n}")
    images, masks = scenes(range(HELD_OUT_SEED, HELD_OUT_SEED + n), size, DEFAULT_SHAPES, noise, tuple(kinds))
    images.flags.writeable = masks.flags.writeable = False
    return images, masks


def dihedral(images: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Each (H, W) map of `images` (N, H, W) turned by one of the 8 symmetries of the square:
    `which` (N,) in 0..7 is a number of quarter turns plus 4 if mirrored. Every kind stays itself."""
    out = np.empty_like(images)
    for k in range(8):
        chosen = which == k
        if chosen.any():
            turned = np.rot90(images[chosen], k % 4, axes=(1, 2))
            out[chosen] = turned[:, :, ::-1] if k >= 4 else turned
    return out


def batches(images: np.ndarray, masks: np.ndarray, batch_size: int, seed: int = 0, start_step: int = 0):
    """Endless shuffled (images, masks) batches, each scene turned or mirrored at random; epoch e
    uses permutation (seed, e) and step s its own symmetries, so starting at `start_step` gives
    exactly the batches a run would have seen from there (an interrupted run resumes on the same data)."""
    n = len(images)
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and the {n} scenes, got {batch_size}")
    per_epoch = n // batch_size
    step = start_step
    while True:
        epoch, index = divmod(step, per_epoch)
        chosen = np.random.default_rng([seed, epoch]).permutation(n)[index * batch_size:(index + 1) * batch_size]
        which = np.random.default_rng([seed, step, 1]).integers(0, 8, len(chosen))
        yield dihedral(images[chosen], which), dihedral(masks[chosen], which)
        step += 1
