"""The self-supervised page's own figures: the map of the test set's features and the label-efficiency chart
(the shared ones are in zoo.plots)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from zoo.i18n import t
from zoo.plots import ACCENT, PALETTE, PROBABILITY_AXIS, tidy

METHODS = {"self_supervised": (ACCENT, "solid"), "supervised": (PALETTE[2], "dash"),
           "random_encoder": (PALETTE[8], "dot")}
"""the label-efficiency table's methods: colour, line style (legend names: self_supervised.figure.method.*)"""
ALL_TRAINING_LABELS = 60000
"""the labels the card's probe on all labels was fitted on: every Fashion-MNIST training image's"""
TICKS = [1, 2, 5, 10, 20, 50, 100]


def feature_map(coords: np.ndarray, labels: np.ndarray, classes: Sequence[str], marks: dict[str, tuple[float, float]],
                method: str, height: int = 500) -> go.Figure:
    """Test images placed in 2-D by `method` (PCA or t-SNE), coloured by the class the encoder never saw (`classes`:
    the names the reader reads), named points starred on top."""
    fig = go.Figure()
    for i, name in enumerate(classes):
        chosen = labels == i
        fig.add_trace(go.Scattergl(x=coords[chosen, 0], y=coords[chosen, 1], mode="markers", name=name,
                                   marker=dict(size=4, color=PALETTE[i % len(PALETTE)], opacity=0.6), hoverinfo="name"))
    for name, (x, y) in marks.items():
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers+text", text=[name], textposition="top center", name=name,
                                 marker=dict(symbol="star", size=18, color="black", line=dict(color="white", width=1.5))))
    fig.update_xaxes(title=f"{method} 1", zeroline=False)
    fig.update_yaxes(title=f"{method} 2", zeroline=False)
    fig.update_layout(legend=dict(itemsizing="constant"))
    return tidy(fig, height, t("self_supervised.map.title", count=len(coords), method=method))


def label_efficiency(table: dict[str, dict], all_labels: float, probes: Sequence[tuple[str, float, float]] = (),
                     height: int = 380) -> go.Figure:
    """Test accuracy against labelled images per class (log axis) for each method of the card's table, the
    probe on all labels as a level, and `probes` (name, images per class, accuracy) as points."""
    rows = sorted(table.values(), key=lambda row: row["labelled_images"])
    per_class = [row["labelled_images"] / 10 for row in rows]
    fig = go.Figure()
    for key, (color, dash) in METHODS.items():
        name = t(f"self_supervised.figure.method.{key}")
        fig.add_trace(go.Scatter(x=per_class, y=[row[key] for row in rows], name=name, mode="lines+markers",
                                 line=dict(color=color, dash=dash), marker=dict(size=8),
                                 hovertemplate=t("self_supervised.figure.hover", name=name)))
    fig.add_hline(y=all_labels, line=dict(color=ACCENT, width=1, dash="longdash"),
                  annotation_text=t("self_supervised.figure.all_labels", labels=ALL_TRAINING_LABELS,
                                    accuracy=all_labels),
                  annotation_position="top left", annotation_font_size=11)
    for i, (name, x, y) in enumerate(probes):
        fig.add_trace(go.Scatter(x=[x], y=[y], name=name, mode="markers",
                                 marker=dict(symbol="star", size=16, color=PALETTE[3 + i], line=dict(color="white", width=1)),
                                 hovertemplate=t("self_supervised.figure.hover_probe", name=name)))
    fig.update_xaxes(title=t("self_supervised.figure.x_axis"), type="log", tickvals=TICKS)
    fig.update_yaxes(title=t("self_supervised.figure.y_axis"), **PROBABILITY_AXIS)
    fig.update_layout(legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))
    fig = tidy(fig, height, t("self_supervised.figure.title"), legend=True)
    fig.update_layout(margin=dict(t=110))
    return fig
