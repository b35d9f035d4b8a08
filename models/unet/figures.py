"""The U-Net page's own figure: a class mask laid over a greyscale image (the shared ones are in zoo.plots)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from zoo.i18n import t
from zoo.plots import PALETTE, image


def label_overlay(pixels: np.ndarray, labels: np.ndarray, names: Sequence[str], title: str,
                  height: int = 300, opacity: float = 0.55) -> go.Figure:
    """A map of class indices (H, W) laid over a greyscale image: one PALETTE colour per class,
    class 0 (the background) left clear, the class names (as the reader reads them) in a legend under the image.

    A legend rather than a colour bar: a bar beside the image took a third of a narrow column's
    width, so the same image came out smaller in each narrower column."""
    fig = image(pixels, title, height)
    k = len(names) - 1
    colors = [PALETTE[c % len(PALETTE)] for c in range(k)]
    scale = [stop for c in range(k) for stop in ([c / k, colors[c]], [(c + 1) / k, colors[c]])]
    fig.add_trace(go.Heatmap(
        z=np.where(labels > 0, labels, np.nan).astype(np.float32), zmin=0.5, zmax=k + 0.5, colorscale=scale,
        opacity=opacity, text=np.asarray(names, dtype=object)[labels], hoverongaps=False, showscale=False,
        hovertemplate=t("unet.overlay_hover")))
    for c, name in enumerate(names[1:]):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, hoverinfo="skip",
                                 marker=dict(symbol="square", size=11, color=colors[c], opacity=opacity)))
    fig.update_layout(showlegend=True, legend=dict(orientation="h", x=0, y=0, yanchor="top", itemwidth=30,
                                                   font_size=11))
    return fig
