"""Turn lasso strokes drawn on a 28x28 canvas into a greyscale image."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4


def rasterize(strokes: list[list[tuple[float, float]]], size: int = 28) -> Image.Image:
    """Fill each closed stroke (pixel coordinates, x right, y down) white on black, anti-aliased."""
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    pen = ImageDraw.Draw(big)
    for stroke in strokes:
        if len(stroke) >= 3:
            pen.polygon([((x + 0.5) * SUPERSAMPLE, (y + 0.5) * SUPERSAMPLE) for x, y in stroke], fill=255)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def strokes_from_selection(selection: dict) -> list[list[tuple[float, float]]]:
    """Lasso polygons from a Streamlit Plotly selection state."""
    return [list(zip(lasso["x"], lasso["y"])) for lasso in selection.get("lasso", []) if lasso.get("x")]


def as_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32) / 255.0
