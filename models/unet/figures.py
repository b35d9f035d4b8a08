"""The U-Net page's own figure: a class mask laid over a greyscale image (the shared ones are in zoo.plots)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from zoo.plots import PALETTE, image


def label_overlay(pixels: np.ndarray, labels: np.ndarray, names: Sequence[str], title: str | None = None,
                  height: int = 260, opacity: float = 0.55) -> go.Figure:
    """A map of class indices (H, W) laid over a greyscale image: one PALETTE colour per class,
    class 0 (the background) left clear, the class names on the colour bar."""
    fig = image(pixels, title, height)
    k = len(names) - 1
    colors = [PALETTE[c % len(PALETTE)] for c in range(k)]
    scale = [stop for c in range(k) for stop in ([c / k, colors[c]], [(c + 1) / k, colors[c]])]
    fig.add_trace(go.Heatmap(
        z=np.where(labels > 0, labels, np.nan).astype(np.float32), zmin=0.5, zmax=k + 0.5, colorscale=scale,
        opacity=opacity, text=np.asarray(names, dtype=object)[labels], hoverongaps=False,
        hovertemplate="row %{y}, col %{x}: %{text}<extra></extra>",
        colorbar=dict(tickvals=list(range(1, k + 1)), ticktext=list(names[1:]), thickness=12, len=0.9)))
    return fig
