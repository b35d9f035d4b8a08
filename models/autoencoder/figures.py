"""The autoencoder page's own figure: the latent map (the shared ones are in zoo.plots)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from zoo.i18n import t
from zoo.plots import PALETTE, tidy


def latent_map(points: np.ndarray, labels: np.ndarray, classes: Sequence[str], marks: dict[str, tuple[float, float]],
               clickable: tuple[np.ndarray, np.ndarray] | None = None, height: int = 460) -> go.Figure:
    """2-D codes coloured by class, named points starred on top, and (optionally) an invisible grid
    of points so a click anywhere on the map selects the nearest grid point."""
    fig = go.Figure()
    if clickable is not None:
        gx, gy = np.meshgrid(*clickable)
        fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", marker=dict(size=14, opacity=0),
                                 name=t("autoencoder.map.click"), showlegend=False,
                                 hovertemplate=t("autoencoder.map.hover")))
    for i, name in enumerate(classes):
        chosen = labels == i
        fig.add_trace(go.Scattergl(x=points[chosen, 0], y=points[chosen, 1], mode="markers", name=name,
                                   marker=dict(size=4, color=PALETTE[i % len(PALETTE)], opacity=0.6),
                                   hoverinfo="name"))
    for name, (x, y) in marks.items():
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers+text", text=[name], textposition="top center",
                                 name=name, marker=dict(symbol="star", size=18, color="black",
                                                        line=dict(color="white", width=1.5))))
    fig.update_xaxes(title=t("autoencoder.map.axis", n=1), zeroline=False)
    fig.update_yaxes(title=t("autoencoder.map.axis", n=2), zeroline=False)
    fig.update_layout(legend=dict(itemsizing="constant"))
    return tidy(fig, height, t("autoencoder.map.title", n=len(points)))
