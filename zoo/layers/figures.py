"""The figures of the layer analysis: each layer's histograms, its dead and saturated units by depth, and
the 2-D maps of the layers' activations coloured by class (built on zoo.plots)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from zoo.i18n import t
from zoo.layers.analysis import Histogram, LayerAnalysis, LayerReport
from zoo.plots import ACCENT, PALETTE, PROBABILITY_AXIS, SECOND, integer_ticks, tidy

MAP_COLUMNS = 3
"""maps side by side in a row of `layer_maps`"""


def _bars(fig: go.Figure, histogram: Histogram, name: str, color: str, col: int) -> None:
    edges = histogram.edges
    fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=histogram.counts, width=np.diff(edges), name=name,
                         marker=dict(color=color, line=dict(width=0)), showlegend=False,
                         hovertemplate=f"{name}<br>%{{x:.3g}}: %{{y:,}}<extra></extra>"), row=1, col=col)


def layer_histograms(layer: LayerReport, height: int = 260) -> go.Figure:
    """The layer's weights and its activations on the batch, side by side, counts on a log axis (a ReLU's
    zeros would flatten everything else)."""
    shown = [(hist, what, color) for hist, what, color in ((layer.weights, "weights", ACCENT),
                                                            (layer.activations, "activations", SECOND)) if hist]
    if not shown:
        raise ValueError(f"layer {layer.name} has neither weights nor activations to draw")
    fig = make_subplots(rows=1, cols=len(shown), horizontal_spacing=0.12,
                        subplot_titles=[t("layers.figure.values", name=t(f"layers.figure.{what}"), total=hist.total)
                                        for hist, what, _ in shown])
    for col, (hist, what, color) in enumerate(shown, start=1):
        _bars(fig, hist, t(f"layers.figure.{what}"), color, col)
        axis = "layers.figure.weight_value" if what == "weights" else "layers.figure.output_value"
        fig.update_xaxes(title_text=t(axis), row=1, col=col)
        fig.update_yaxes(title_text=t("layers.figure.count_log"), type="log", dtick=1, exponentformat="power", row=1,
                         col=col)
    fig.update_layout(bargap=0)
    fig.update_annotations(font_size=12)
    return tidy(fig, height, t("layers.figure.layer_title", name=layer.shown_name, kind=layer.shown_kind))


def unit_health(analysis: LayerAnalysis, height: int = 280) -> go.Figure:
    """Each layer's share of dead units (zero on every input) and of saturated units, in depth order."""
    depth = np.arange(1, len(analysis.layers) + 1)
    names = [t("layers.figure.layer_title", name=layer.shown_name, kind=layer.shown_kind) for layer in analysis.layers]
    fig, found = go.Figure(), 0.0
    for label, key, color in ((t("layers.figure.dead_units"), "dead_share", PALETTE[5]),
                              (t("layers.figure.saturated_units"), "saturated_share", PALETTE[4])):
        shares = [getattr(layer, key) for layer in analysis.layers]
        if all(share is None for share in shares):
            continue
        found = max(found, *(share or 0.0 for share in shares))
        fig.add_trace(go.Bar(x=depth, y=[np.nan if s is None else s for s in shares], name=label, customdata=names,
                             marker=dict(color=color),
                             hovertemplate=f"%{{customdata}}<br>{label}: %{{y:.1%}}<extra></extra>"))
    fig.update_xaxes(title=t("layers.figure.depth_axis"), **integer_ticks(depth))
    fig.update_yaxes(title=t("layers.figure.unit_share"), **PROBABILITY_AXIS)
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))
    title = t("layers.figure.health_title" if found else "layers.figure.health_none")
    return tidy(fig, height, title, legend=True)


def class_separation(analysis: LayerAnalysis, height: int = 280) -> go.Figure:
    """Each layer's share of inputs whose nearest neighbour in its activations has the same class, in depth
    order, beside the share a random neighbour would give: how the classes pull apart with depth."""
    rows = [(i + 1, layer) for i, layer in enumerate(analysis.layers) if layer.neighbours_agree is not None]
    shares = np.bincount(analysis.labels, minlength=len(analysis.classes)) / len(analysis.labels)
    fig = go.Figure(go.Scatter(x=[depth for depth, _ in rows], y=[layer.neighbours_agree for _, layer in rows],
                               mode="lines+markers", name=t("layers.figure.same_class"),
                               customdata=[t("layers.figure.layer_title", name=layer.shown_name, kind=layer.shown_kind)
                                           for _, layer in rows],
                               line=dict(color=ACCENT), hovertemplate="%{customdata}<br>%{y:.1%}<extra></extra>"))
    fig.add_hline(y=float((shares ** 2).sum()), line=dict(color=PALETTE[8], dash="dot"),
                  annotation_text=t("layers.figure.random_neighbour"), annotation_position="bottom right",
                  annotation_font_size=11)
    fig.update_xaxes(title=t("layers.figure.depth_axis"), **integer_ticks([d for d, _ in rows] or [1]))
    fig.update_yaxes(title=t("layers.figure.same_class_share"), **PROBABILITY_AXIS)
    return tidy(fig, height, t("layers.figure.separation_title"))


def layer_maps(maps: Sequence[tuple[str, np.ndarray]], labels: np.ndarray, classes: Sequence[str], method: str,
               cell_height: int = 300) -> go.Figure:
    """One 2-D map per layer, in depth order: each input placed by `method` (PCA or t-SNE) of the layer's
    activations and coloured by its class, so classes can be seen to separate with depth."""
    rows = -(-len(maps) // MAP_COLUMNS)
    cols = min(len(maps), MAP_COLUMNS)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[name for name, _ in maps],
                        horizontal_spacing=0.04, vertical_spacing=0.5 / max(rows * 3, 1) + 0.04)
    for i, (_, points) in enumerate(maps):
        row, col = i // cols + 1, i % cols + 1
        for k, name in enumerate(classes):
            chosen = labels == k
            fig.add_trace(go.Scatter(x=points[chosen, 0], y=points[chosen, 1], mode="markers", name=name,
                                     legendgroup=name, showlegend=i == 0, hoverinfo="name",
                                     marker=dict(size=4, color=PALETTE[k % len(PALETTE)], opacity=0.7)),
                          row=row, col=col)
        fig.update_xaxes(title_text=f"{method} 1", showticklabels=False, zeroline=False, row=row, col=col)
        fig.update_yaxes(title_text=f"{method} 2", showticklabels=False, zeroline=False, row=row, col=col)
    fig.update_annotations(font_size=12)
    fig.update_layout(legend=dict(itemsizing="constant", title_text=t("layers.figure.class")))
    return tidy(fig, cell_height * rows + 40, t("layers.figure.maps_title", n=len(labels), method=method))
