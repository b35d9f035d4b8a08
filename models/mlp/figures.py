"""The playground's live figures: the decision boundary over the plane and the hidden units' maps.
Redrawn and sent whole twice a second, so each is one constructor call with compact arrays and
zoo.plots' empty template."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from zoo.i18n import t
from zoo.plots import HEAT, PALETTE, PLAIN_TEMPLATE, TITLE_MARGIN, tint, title_layout


def decision_boundary(proba: np.ndarray, bounds: tuple[float, float, float, float], train, test,
                      height: int = 480) -> go.Figure:
    """The plane coloured by the winning class of `proba` (C, G, G) over `bounds` (x0, x1, y0, y1),
    paler where the network is unsure (white on the boundary), with the training points (white rim)
    and test points (dark rim) on top. `train` and `test` have `.x` (N, 2), `.y` (N,) and `.classes`."""
    proba = proba.astype(np.float32)
    k, size = len(proba), proba.shape[-1]
    win, top = proba.argmax(0), proba.max(0)
    sure = np.clip((top - 1 / k) / (1 - 1 / k), 0, 0.999)
    levels = 255 // k  # each class gets its own band of uint8 shades: a quarter of float32's bytes a redraw
    colors = [PALETTE[c % len(PALETTE)] for c in range(k)]
    scale = [stop for c in range(k) for stop in ([c / k, tint(colors[c], 0.05)], [(c + 0.999) / k, tint(colors[c], 0.75)])]
    scale[-1][0] = 1.0
    xs = np.linspace(bounds[0], bounds[1], size, dtype=np.float32)
    ys = np.linspace(bounds[2], bounds[3], size, dtype=np.float32)
    shade = (win * levels + np.round(sure * (levels - 1))).astype(np.uint8)
    traces = [go.Heatmap(x=xs, y=ys, z=shade, zmin=0, zmax=k * levels, colorscale=scale,
                         showscale=False, customdata=np.stack([win, np.round(100 * top)], -1).astype(np.uint8),
                         hovertemplate=t("mlp.boundary.hover"))]
    for points, rim, label in ((train, "white", "train"), (test, "#2D3436", "test")):
        for c in range(k):
            chosen = points.y == c
            if chosen.any():
                traces.append(go.Scatter(
                    x=points.x[chosen, 0], y=points.x[chosen, 1], mode="markers",
                    name=t(f"mlp.boundary.{label}_legend", label=train.classes[c]),
                    legendgroup=label, marker=dict(color=colors[c], size=7, line=dict(color=rim, width=1.2)),
                    hovertemplate=t(f"mlp.boundary.{label}_hover", label=train.classes[c])))
    axis = dict(showgrid=False, zeroline=False, constrain="domain")
    return go.Figure(traces, layout=dict(
        height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN, b=10), template=PLAIN_TEMPLATE,
        plot_bgcolor="white", title=title_layout(t("mlp.boundary.title")),
        xaxis=dict(range=bounds[:2], title=t("mlp.boundary.x"), **axis),
        yaxis=dict(range=bounds[2:], scaleanchor="x", title=t("mlp.boundary.y"), **axis),
        legend=dict(orientation="v", y=1, yanchor="top", x=1.02, font_size=11)))  # beside: a row above ran into the title


def unit_maps(units: np.ndarray, signed: bool, title: str, cols: int = 8) -> go.Figure:
    """Hidden units' outputs over the plane, `units` (U, g, g) with rows from the bottom up, tiled
    into one heat map on a shared colour scale (one trace: cheap to redraw live); a diverging
    scale when `signed` or any output is negative."""
    units = units.astype(np.float32)
    n, g = len(units), units.shape[-1]
    rows, gap = -(-n // cols), 3
    mosaic = np.full((rows * (g + gap) - gap, min(n, cols) * (g + gap) - gap), np.nan, dtype=np.float32)
    label = np.zeros(mosaic.shape, dtype=np.uint8)
    for i, tile in enumerate(units):
        r, c = divmod(i, cols)
        top, left = r * (g + gap), c * (g + gap)
        mosaic[top:top + g, left:left + g] = tile[::-1]  # image rows from the top
        label[top:top + g, left:left + g] = i + 1
    limit = float(np.nanmax(np.abs(mosaic))) or 1.0
    low = -limit if signed or np.nanmin(mosaic) < 0 else 0.0
    heat = go.Heatmap(z=mosaic, customdata=label, zmin=low, zmax=limit, colorscale="RdBu_r" if low < 0 else HEAT,
                      colorbar=dict(thickness=10, len=0.9), hoverongaps=False,
                      hovertemplate=t("mlp.unit_hover"))
    return go.Figure(heat, layout=dict(
        height=TITLE_MARGIN + 30 + rows * 105, margin=dict(l=10, r=10, t=TITLE_MARGIN, b=10), template=PLAIN_TEMPLATE,
        title=title_layout(title),
        xaxis=dict(visible=False, constrain="domain"),
        yaxis=dict(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")))
