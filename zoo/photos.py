"""Turn a photo or drawing of one garment into what Fashion-MNIST looks like: float (1, 28, 28) in
[0, 1], a light garment filling the frame on black, so every Fashion-MNIST model sees familiar input.

Fashion-MNIST was made from product photos on white (Xiao et al. 2017): trimmed to the product,
its longest side resized to 28, centred, negated. Measured on its 10,000 test images, the garment
spans all 28 pixels along its longest side in 98.3% of them (26 or 27 in the rest): the dataset has no
margin, so the crop here fills 28 along its longest side and is padded on the short side only. A
phone photo adds what the dataset never has: a background with gradients, texture and shadows.
`clean_photo` removes it in steps that it returns, so a page can show why the model sees what it sees.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageFilter

from zoo.i18n import t
from zoo.uploads import load_image, to_rgb_or_l

SIDE = 28
WORK_SIDE = 512
"""the garment is cut from the photo shrunk to at most this many pixels a side: the result is 28x28 anyway"""
ANALYSIS_SIDE = 160
"""the background and the garment's outline are found at this size: fast, and texture averages out"""
BORDER = 0.08
"""the ring along the edges that shows the background, as a share of the shorter side"""
BLACK = 1 / 255
"""border pixels this dark are pure black"""
CORNER_WEIGHT = 2.0
"""a corner cell counts this many times in the vote for the background: garments seldom reach the corners"""
SPLIT_SIGMAS = 4.0
"""a pixel is garment when it differs from the background by this many times the border's own spread"""
SMOOTH_RADIUS = 3
"""the outline is found on the difference averaged over 7x7 analysis pixels: fabric and wood grain average out"""
KEEP_SHARE = 0.25
"""parts of the garment at least this share of its largest part are kept too (a sandal's straps)"""


@dataclass(frozen=True)
class PhotoSteps:
    """Each step of `clean_photo` as a picture (ANALYSIS_SIDE at most, values in [0, 1]) and the result."""
    grey: np.ndarray
    """(h, w) the photo in grey"""
    background: np.ndarray
    """(h, w) the smooth surface fitted to the border ring, extended under the garment"""
    difference: np.ndarray
    """(h, w) how far each pixel is from the background, on the garment's side, scaled to [0, 1]"""
    garment: np.ndarray
    """(h, w) the difference inside the garment's outline only: its largest connected parts"""
    result: np.ndarray
    """(28, 28) the garment cropped, shrunk to fill 28 along its longest side, centred on black"""
    inverted: bool
    """the garment was darker than its background, so the picture was negated"""
    found: bool
    """something stood out from the background; otherwise the whole picture is used"""

    def tensor(self) -> torch.Tensor:
        """The result as the image models take it: float (1, 28, 28) in [0, 1]."""
        return torch.from_numpy(self.result).unsqueeze(0)

    def pictures(self) -> dict[str, np.ndarray]:
        """Each step's picture under its numbered title, in the reader's language, in order."""
        return {t(f"photos.step.{step}"): getattr(self, step) for step in STEPS}

    def explanation(self) -> str:
        """Why each step was taken, and what it did to this photo, in one paragraph for the reader."""
        return t(f"photos.explanation.{'found' if self.found else 'not_found'}{'_inverted' if self.inverted else ''}")


STEPS = ("grey", "background", "difference", "garment", "result")
"""PhotoSteps' pictures in the order they are made (their titles: photos.step.* in zoo/i18n/photos.toml)"""


def to_fashion_tensor(image: Image.Image) -> torch.Tensor:
    """Any photo or drawing -> float (1, 28, 28) in [0, 1], cleaned by `clean_photo`."""
    return clean_photo(image).tensor()


def read_upload(data: bytes, name: str) -> tuple[torch.Tensor, PhotoSteps]:
    """An uploaded image file as a model's input both ways: squeezed as it is (`plain_resize`) and cleaned
    step by step (`clean_photo`); raises `zoo.uploads.UploadError` when it cannot be read."""
    image = load_image(data, name)
    return plain_resize(image), clean_photo(image)


def plain_resize(image: Image.Image) -> torch.Tensor:
    """The whole picture in grey squeezed to 28x28 as it is, no cleaning: what the model gets without it."""
    grey = to_rgb_or_l(image).convert("L").resize((SIDE, SIDE), Image.Resampling.BOX)
    return torch.from_numpy(np.asarray(grey, dtype=np.float32) / 255).unsqueeze(0)


def thumbnail(pixels: np.ndarray, side: int = 96) -> np.ndarray:
    """A (h, w) picture in [0, 1] averaged down to at most `side` a side and rounded to 1/100: a
    small payload for a browser, which shows it a couple of hundred pixels wide."""
    picture = Image.fromarray(pixels.astype(np.float32))
    picture.thumbnail((side, side), Image.Resampling.BOX)
    return np.round(np.asarray(picture), 2)


def clean_photo(image: Image.Image) -> PhotoSteps:
    """Find the garment and make it look like Fashion-MNIST, keeping each step.

    1. Grey (transparency over white), shrunk to WORK_SIDE for cutting and ANALYSIS_SIDE for finding.
    2. Background: a smooth (quadratic) surface fitted to the border cells that agree with each
       other, so gradients, vignettes and uneven light are followed and a garment touching the edge
       is left out (`_fit_background`); black when the border is mostly pure black.
    3. Difference from that surface; negated when the garment is darker than its background.
    4. Garment: where the difference, averaged over 7x7, is SPLIT_SIGMAS times the border's spread
       above the background; opened, its largest connected part and those over KEEP_SHARE of its
       size kept, holes filled.
    5. Cut out the difference inside that outline, crop to it, shrink so the longest side is 28
       (keeping the aspect), centre on black, stretch so the brightest pixel is 1.
    """
    work = to_rgb_or_l(image).convert("L")  # convert copies, so thumbnail leaves `image` alone
    work.thumbnail((WORK_SIDE, WORK_SIDE))
    grey_work = np.asarray(work, dtype=np.float32) / 255  # (H, W)
    grey = _analysis_size(work)  # (h, w)

    if _on_black(grey_work):
        surface, border = _black, _ring_mask(grey.shape) & (grey <= BLACK)
    else:
        surface, border = _fit_background(grey)
    background = surface(grey.shape)
    difference = grey - background
    inverted = _garment_is_darker(difference, border)
    lifted = (-1.0 if inverted else 1.0) * difference  # (h, w) the garment light, the background ~0

    smooth = _box_mean(lifted, SMOOTH_RADIUS)  # fabric and wood grain average out
    threshold = SPLIT_SIGMAS * max(_spread(smooth[border]), 2 / 255)
    outline = _garment_outline(smooth > threshold)
    found = bool(outline.any())
    if not found:
        outline = np.ones_like(outline)
    lifted_work = (-1.0 if inverted else 1.0) * (grey_work - surface(grey_work.shape))
    cutout = np.clip(lifted_work, 0, None) * _upsample(_dilate(outline, 5), grey_work.shape)
    box = _box(cutout > threshold) if found else (slice(None), slice(None))
    result = _fit_to_square(cutout[box])
    shown = np.clip(lifted, 0, None)
    scale = shown.max() or 1.0
    return PhotoSteps(grey=grey, background=background.clip(0, 1), difference=shown / scale,
                      garment=shown * outline / scale, result=result, inverted=inverted, found=found)


def _analysis_size(work: Image.Image) -> np.ndarray:
    """(h, w) in [0, 1]: the picture with its longest side ANALYSIS_SIDE, averaged down or smoothly
    enlarged, so a 28x28 drawing and a 4000x3000 photo are analysed at the same scale."""
    scale = ANALYSIS_SIDE / max(work.size)
    size = tuple(max(1, round(side * scale)) for side in work.size)
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(work.resize(size, method), dtype=np.float32) / 255


def _on_black(grey: np.ndarray) -> bool:
    """Whether the border is mostly pure black, as in a drawing or a Fashion-MNIST image (a camera's
    noise never is): the picture is already light on black, however much of the border the garment covers."""
    return bool(np.mean(grey[_ring_mask(grey.shape)] <= BLACK) >= 0.5)


def _black(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


def _ring_mask(shape: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: every pixel of the border ring."""
    mask = np.zeros(shape, dtype=bool)
    for cell in _border_ring(shape):
        mask[cell] = True
    return mask


def _border_ring(shape: tuple[int, int]) -> list[tuple[slice, slice]]:
    """The outer BORDER share of the picture on all four sides, as cells: 8 along the top and the
    bottom (corners included) and 6 down each side, so a garment touching the edge fills only some."""
    height, width = shape
    band = max(1, round(BORDER * min(height, width)))
    across = np.linspace(0, width, 9).round().astype(int)
    down = np.linspace(band, height - band, 7).round().astype(int)
    cells = [(rows, slice(a, b)) for rows in (slice(0, band), slice(height - band, height))
             for a, b in zip(across[:-1], across[1:])]
    cells += [(slice(a, b), cols) for cols in (slice(0, band), slice(width - band, width))
              for a, b in zip(down[:-1], down[1:])]
    return [cell for cell in cells if cell[0].stop > cell[0].start and cell[1].stop > cell[1].start]


def _fit_background(grey: np.ndarray) -> tuple[Callable[[tuple[int, int]], np.ndarray], np.ndarray]:
    """A function shape -> (H, W) background surface, and the (h, w) border pixels it was fitted to.

    The border cells that agree best with one plane are found by trying the plane through every
    three cells: a garment touching the edge disagrees with the rest even when it covers much of the
    border, since the background is smooth and reaches the corners, which count CORNER_WEIGHT
    times. A quadratic fitted to those cells' medians follows gradients and vignettes; the cells
    close to it join, and it is fitted once more."""
    cells = _border_ring(grey.shape)
    if len(cells) < 6 or min(grey.shape) < 8:  # too small for a surface: one level
        pixels = _ring_mask(grey.shape)
        level = float(np.median(grey[pixels]))
        return (lambda shape: np.full(shape, level, dtype=np.float32)), pixels
    pixels = np.zeros(grey.shape, dtype=bool)
    basis = _quadratic_basis(grey.shape)
    at_cells = np.array([[terms[cell].mean() for terms in basis] for cell in cells])  # (C, 6)
    medians = np.array([np.median(grey[cell]) for cell in cells])
    tolerance = max(3 * float(np.median([_spread(grey[cell]) for cell in cells])), 0.04)
    weights = np.array([CORNER_WEIGHT if _is_corner(cell, grey.shape) else 1.0 for cell in cells])
    agree = _plane_consensus(at_cells[:, :3], medians, weights, tolerance)
    for _ in range(2):
        coefficients = _ridge(at_cells[agree], medians[agree])
        agree |= np.abs(at_cells @ coefficients - medians) <= tolerance
    for cell in np.flatnonzero(agree):
        pixels[cells[cell]] = True
    return (lambda shape: np.tensordot(coefficients, _quadratic_basis(shape), axes=1).astype(np.float32)), pixels


def _is_corner(cell: tuple[slice, slice], shape: tuple[int, int]) -> bool:
    rows, cols = cell
    return (rows.start == 0 or rows.stop == shape[0]) and (cols.start == 0 or cols.stop == shape[1])


def _plane_consensus(at_cells: np.ndarray, medians: np.ndarray, weights: np.ndarray, tolerance: float) -> np.ndarray:
    """(C,) bool: the cells within `tolerance` of the plane, through three of them, that the most
    (weighted) cells agree with; ties go to the plane closest to its cells. at_cells: (C, 3) 1, x, y."""
    triples = np.array(list(combinations(range(len(medians)), 3)))  # (T, 3)
    design = at_cells[triples]  # (T, 3, 3)
    solvable = np.abs(np.linalg.det(design)) > 1e-6
    planes = np.linalg.solve(design[solvable], medians[triples[solvable]][..., None])[..., 0]  # (T', 3)
    error = np.abs(planes @ at_cells.T - medians)  # (T', C)
    inside = error <= tolerance
    score = inside @ weights - (error * inside).sum(1) / (tolerance * len(medians))
    return inside[int(np.argmax(score))]


def _ridge(design: np.ndarray, values: np.ndarray, penalty: float = 0.01) -> np.ndarray:
    """Least squares with a small pull of every term but the constant towards 0, so that a surface
    seen on one side only stays flat elsewhere instead of bending away."""
    pull = np.sqrt(penalty) * np.eye(design.shape[1])[1:]
    coefficients, *_ = np.linalg.lstsq(np.vstack([design, pull]), np.r_[values, np.zeros(len(pull))], rcond=None)
    return coefficients


def _quadratic_basis(shape: tuple[int, int]) -> np.ndarray:
    """(6, H, W): 1, x, y, x², xy, y² on coordinates running -1..1 across the picture, at any size."""
    y, x = np.meshgrid(np.linspace(-1, 1, shape[0], dtype=np.float32),
                       np.linspace(-1, 1, shape[1], dtype=np.float32), indexing="ij")
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y])


def _spread(values: np.ndarray) -> float:
    """Robust standard deviation (1.4826 x the median absolute deviation): outliers do not count."""
    return float(1.4826 * np.median(np.abs(values - np.median(values)))) if values.size else 0.0


def _garment_is_darker(difference: np.ndarray, border: np.ndarray) -> bool:
    """Whether the pixels that stand out from the background stand out darker (a dark shirt on a
    light table) rather than lighter (a white shirt on a dark one, or a drawing)."""
    noise = SPLIT_SIGMAS * max(_spread(difference[border]), 2 / 255)
    darker = np.clip(-difference - noise, 0, None).sum()
    lighter = np.clip(difference - noise, 0, None).sum()
    return bool(darker > lighter)


def _garment_outline(above: np.ndarray) -> np.ndarray:
    """(h, w) bool: the pixels clearly above the background, opened to cut thin bridges, their
    largest part and those over KEEP_SHARE of its size, holes filled."""
    above = _open(above)
    labels, sizes = _components(above)
    if not sizes.size:
        return above
    kept = np.flatnonzero(sizes >= KEEP_SHARE * sizes.max()) + 1
    return _fill_holes(np.isin(labels, kept))


def _box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """The mean over the (2 radius + 1)² square around each pixel, edges repeated, from an integral image."""
    size = 2 * radius + 1
    padded = np.pad(values.astype(np.float64), radius, mode="edge")
    integral = np.pad(padded.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    height, width = values.shape
    total = (integral[size:size + height, size:size + width] - integral[:height, size:size + width]
             - integral[size:size + height, :width] + integral[:height, :width])
    return (total / size ** 2).astype(np.float32)


def _open(mask: np.ndarray) -> np.ndarray:
    """Erode then dilate by one pixel: specks and one-pixel bridges go, shapes keep their size."""
    return _dilate(_as_mask(_as_image(mask).filter(ImageFilter.MinFilter(3))))


def _dilate(mask: np.ndarray, size: int = 3) -> np.ndarray:
    return _as_mask(_as_image(mask).filter(ImageFilter.MaxFilter(size)))


def _as_image(mask: np.ndarray) -> Image.Image:
    return Image.fromarray(mask.astype(np.uint8) * 255)


def _as_mask(image: Image.Image) -> np.ndarray:
    return np.asarray(image) > 127


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected parts of a mask: (h, w) labels 1..K (0 outside) and the K sizes. Each pixel takes
    the smallest label among its neighbours, with pointer jumping, until nothing changes."""
    height, width = mask.shape
    outside = height * width
    labels = np.where(mask, np.arange(outside).reshape(height, width), outside)
    while True:
        padded = np.pad(labels, 1, constant_values=outside)
        smallest = labels.copy()
        for dy in range(3):
            for dx in range(3):
                np.minimum(smallest, padded[dy:dy + height, dx:dx + width], out=smallest)
        flat = np.append(smallest.ravel(), outside)
        jumped = np.where(mask, flat[flat[smallest]], outside)  # a label points at a pixel of the same part
        if np.array_equal(jumped, labels):
            break
        labels = jumped
    roots, numbered = np.unique(labels[mask], return_inverse=True)
    result = np.zeros(mask.shape, dtype=np.int64)
    result[mask] = numbered + 1
    return result, np.bincount(numbered, minlength=roots.size)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every enclosed gap filled: gaps are background parts that never reach the edge."""
    labels, _ = _components(~mask)
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return mask | ((labels > 0) & ~np.isin(labels, edge[edge > 0]))


def _upsample(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A soft (H, W) version of an (h, w) mask, smooth at the outline."""
    resized = _as_image(mask).resize((shape[1], shape[0]), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32) / 255


def _box(mask: np.ndarray) -> tuple[slice, slice]:
    """The bounding box of a mask's pixels; the whole picture when it has none."""
    rows, cols = np.nonzero(mask)
    if not rows.size:
        return slice(None), slice(None)
    return slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1)


def _fit_to_square(crop: np.ndarray) -> np.ndarray:
    """(28, 28): the crop shrunk so its longest side is 28, centred on black (an odd spare pixel on
    the top or left, as in 99.5% of the test images), brightest pixel 1."""
    scale = SIDE / max(crop.shape)
    height, width = (max(1, min(SIDE, round(side * scale))) for side in crop.shape)
    small = np.clip(np.asarray(Image.fromarray(crop).resize((width, height), Image.Resampling.LANCZOS)), 0, None)
    canvas = np.zeros((SIDE, SIDE), dtype=np.float32)
    top, left = (SIDE - height + 1) // 2, (SIDE - width + 1) // 2
    canvas[top:top + height, left:left + width] = small
    if canvas.max() > 0:
        canvas /= canvas.max()
    return np.clip(canvas, 0, 1)
