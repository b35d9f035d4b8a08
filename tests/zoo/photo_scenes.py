"""Photo-like scenes made from Fashion-MNIST garments, to test and measure the upload preprocessing.

A scene pastes one 28x28 garment, scaled up, onto a 640x480 background such as a phone photo has
(a gradient, paper, fabric, wood, a soft shadow), with the garment's greys mapped the way a photo
shows them: Fashion-MNIST is a negated product photo, so a dark garment is 255 - v, a light one v.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

WIDTH, HEIGHT = 640, 480


@dataclass(frozen=True)
class Scene:
    """How one condition of the benchmark builds its photos."""
    name: str
    background: str
    """one of BACKGROUNDS"""
    light_background: bool
    """a dark garment on a light background, or a light garment on a dark one"""
    shadow: bool = False
    """a soft shadow of the garment falls beside it"""
    off_centre: bool = False
    """a smaller garment placed near an edge instead of around the middle"""


SCENES = (
    Scene("white paper", "flat", True),
    Scene("grey linear gradient", "linear", True),
    Scene("radial gradient (vignette)", "radial", True),
    Scene("paper noise", "noise", True),
    Scene("fabric weave", "fabric", True),
    Scene("wood-like stripes", "wood", True),
    Scene("soft shadow on a gradient", "linear", True, shadow=True),
    Scene("off-centre on a gradient", "linear", True, off_centre=True),
    Scene("dark gradient, light garment", "linear", False),
    Scene("dark fabric, light garment", "fabric", False),
)
BACKGROUNDS = ("flat", "linear", "radial", "noise", "fabric", "wood")


def background(kind: str, light: bool, rng: np.random.Generator) -> np.ndarray:
    """A (HEIGHT, WIDTH) grey background in 0..255 of the given kind, light or dark."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    high, low = (rng.uniform(215, 245), rng.uniform(130, 175)) if light else (rng.uniform(70, 105), rng.uniform(15, 40))
    if kind == "flat":
        return np.full((HEIGHT, WIDTH), high, np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    along = (np.cos(angle) * (x - WIDTH / 2) + np.sin(angle) * (y - HEIGHT / 2)) / (WIDTH / 2)  # about -1..1
    ramp = low + (high - low) * np.clip((along + 1) / 2, 0, 1)
    if kind == "linear":
        return ramp
    if kind == "radial":
        cy, cx = rng.uniform(0.35, 0.65) * HEIGHT, rng.uniform(0.35, 0.65) * WIDTH
        distance = np.hypot(x - cx, y - cy) / np.hypot(WIDTH / 2, HEIGHT / 2)
        return high - (high - low) * np.clip(distance, 0, 1) ** 1.5
    level = (high + low) / 2 + (ramp - (high + low) / 2) * 0.4  # a gentle gradient under the texture
    if kind == "noise":
        grain = _blur(rng.standard_normal((HEIGHT, WIDTH), dtype=np.float32), 1.5)
        return level + grain / grain.std() * rng.uniform(6, 12)
    if kind == "fabric":
        period = rng.uniform(5, 10)
        weave = np.sin(2 * np.pi * x / period) * np.sin(2 * np.pi * y / period)
        return level + rng.uniform(8, 16) * weave + 3 * rng.standard_normal((HEIGHT, WIDTH), dtype=np.float32)
    if kind == "wood":
        period, wobble = rng.uniform(22, 40), rng.uniform(8, 25)
        grain = np.sin(2 * np.pi * (x + wobble * np.sin(2 * np.pi * y / rng.uniform(150, 300))) / period)
        return level + rng.uniform(12, 22) * grain + 3 * rng.standard_normal((HEIGHT, WIDTH), dtype=np.float32)
    raise ValueError(f"unknown background {kind!r}; choose from {BACKGROUNDS}")


def photo(garment: np.ndarray, scene: Scene, rng: np.random.Generator) -> Image.Image:
    """A 640x480 RGB photo of one Fashion-MNIST garment (uint8 (28, 28)) in `scene`."""
    long_side = rng.integers(150, 230) if scene.off_centre else rng.integers(260, 420)
    v = np.clip(np.asarray(Image.fromarray(garment).resize((long_side, long_side), Image.Resampling.BICUBIC),
                           np.float32), 0, 255)
    alpha = np.clip(v / 40, 0, 1)  # the product's faint edge blends into the background
    if scene.light_background:  # a dark garment: the product photo Fashion-MNIST negated
        tone = rng.uniform(215, 240) - rng.uniform(0.65, 0.8) * v
    else:  # a light garment on a dark background
        tone = rng.uniform(45, 70) + rng.uniform(0.65, 0.8) * v
    scene_grey = background(scene.background, scene.light_background, rng)
    margin = 10
    if scene.off_centre:
        top = rng.choice([margin, HEIGHT - long_side - margin])
        left = rng.choice([margin, WIDTH - long_side - margin])
    else:  # anywhere in the height, within 60 px of the middle across
        top = rng.integers(margin, HEIGHT - long_side - margin + 1)
        left = rng.integers(WIDTH // 2 - long_side // 2 - 60, WIDTH // 2 - long_side // 2 + 61)
    if scene.shadow:  # the garment's own outline, offset down and right, blurred
        dy, dx = rng.integers(12, 30, size=2)
        shade = np.zeros((HEIGHT, WIDTH), np.float32)
        shade[_window(top + dy, left + dx, long_side)] = alpha[_clipped(top + dy, left + dx, long_side)]
        scene_grey = scene_grey * (1 - rng.uniform(0.25, 0.4) * _blur(shade, 12))
    window = _window(top, left, long_side)
    scene_grey[window] = scene_grey[window] * (1 - alpha) + tone * alpha
    tint = rng.uniform(0.85, 1.15, 3)
    tint /= tint @ np.array([0.299, 0.587, 0.114])  # keeps the grey a camera would record
    rgb = scene_grey[..., None] * tint + 2.5 * rng.standard_normal((HEIGHT, WIDTH, 3), dtype=np.float32)
    return Image.fromarray(np.clip(rgb, 0, 255).round().astype(np.uint8))


def jpeg(image: Image.Image) -> bytes:
    """The photo as a camera would save it."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _window(top: int, left: int, side: int) -> tuple[slice, slice]:
    """The part of the photo a side x side square placed at (top, left) covers."""
    return slice(max(0, top), min(HEIGHT, top + side)), slice(max(0, left), min(WIDTH, left + side))


def _clipped(top: int, left: int, side: int) -> tuple[slice, slice]:
    """The part of a side x side square placed at (top, left) that lies inside the photo."""
    rows, cols = _window(top, left, side)
    return slice(rows.start - top, rows.stop - top), slice(cols.start - left, cols.stop - left)


def _blur(values: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of a float array through PIL (8-bit precision is plenty for a shade or grain)."""
    low, high = float(values.min()), float(values.max())
    if high == low:
        return values.astype(np.float32)
    scaled = Image.fromarray(np.round((values - low) / (high - low) * 255).astype(np.uint8))
    blurred = np.asarray(scaled.filter(ImageFilter.GaussianBlur(radius)), np.float32)
    return blurred / 255 * (high - low) + low
