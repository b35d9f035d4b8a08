"""The Runs page's figures, on zoo.plots' rules: one metric's curves of many runs (smoothed over their faint raw
values, or a group's mean over its spread), and a layer's weight histograms over training as a heat map."""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from zoo import plots
from zoo.i18n import t
from zoo.runs.curves import Band, Curve, axis_title


def metric_chart(key: str, curves: Sequence[Curve], bands: Sequence[Band] = (), *, x_axis: str = "step",
                 log_y: bool = False, height: int = 340) -> go.Figure:
    """The runs' metric `key` against `x_axis` (a key of `curves.X_AXES`): each run's smoothed line over its raw
    values drawn faint (when they differ), and each group's mean over a band of its spread. Every line is thinned
    to plots.CURVE_POINTS."""
    m = plots.metric(key)
    traces, all_x = [], []
    for i, curve in enumerate(curves):
        color = plots.PALETTE[i % len(plots.PALETTE)]
        if not np.array_equal(curve.raw, curve.smoothed, equal_nan=True):
            traces.append(_line(curve.x, curve.raw, t("runs.raw", label=curve.label), x_axis, color, opacity=0.25,
                                legend=False))
        traces.append(_line(curve.x, curve.smoothed, curve.label, x_axis, color))
        all_x.extend(curve.x.tolist())
    for i, band in enumerate(bands):
        color = plots.PALETTE[i % len(plots.PALETTE)]
        traces.append(_line(band.x, band.high, t("runs.highest", label=band.label), x_axis, color, width=0,
                            legend=False))
        traces.append(_line(band.x, band.low, t("runs.lowest", label=band.label), x_axis, color, width=0, legend=False,
                            fill=plots.tint(color, 0.3)))
        traces.append(_line(band.x, band.mean, band.label, x_axis, color))
        all_x.extend(band.x.tolist())
    y_axis = dict(title=dict(text=m.axis))
    if m.kind == plots.PROBABILITY:
        y_axis.update(plots.PROBABILITY_AXIS)
    elif log_y:
        y_axis.update(type="log", exponentformat="power")
    x_title = axis_title("step" if bands else x_axis)
    x_axis_layout = dict(title=dict(text=x_title))
    if x_axis == "step" or bands:
        x_axis_layout.update(plots.integer_ticks(all_x or [0]))
    elif x_axis == "wall":
        x_axis_layout.update(type="date")
    figure = go.Figure(traces, dict(xaxis=x_axis_layout, yaxis=y_axis, legend=dict(font=dict(size=11)),
                                    template=plots.PLAIN_TEMPLATE))
    return plots.tidy(figure, height, m.name[0].upper() + m.name[1:])


def _line(x: np.ndarray, y: np.ndarray, name: str, x_axis: str, color: str, *, opacity: float = 1.0,
          width: float = 1.8, legend: bool = True, fill: str | None = None) -> dict:
    x, y = plots.thin(np.asarray(x, np.float64), np.asarray(y, np.float64))
    shown_x = [time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) for t in x] if x_axis == "wall" else x
    return dict(type="scatter", x=shown_x, y=y.astype(np.float32), name=name, mode="lines", opacity=opacity,
                line=dict(color=color, width=width), showlegend=legend, hoverinfo="skip" if not legend else None,
                fill="tonexty" if fill else None, fillcolor=fill,
                hovertemplate=None if not legend else f"{name}<br>%{{x}}: %{{y:.4g}}<extra></extra>")


def weight_histogram_chart(label: str, layer: str, histograms: Sequence[dict], height: int = 300) -> go.Figure:
    """How the weights of `layer` spread over training: the share of them in each bin (y) at each step it was
    measured (x), from a run's weight histograms (those with the first one's range and bins)."""
    entries = [entry for entry in histograms if layer in entry["layers"]]
    first = entries[0]["layers"][layer]
    entries = [e for e in entries if tuple(e["layers"][layer]["range"]) == tuple(first["range"])
               and len(e["layers"][layer]["counts"]) == len(first["counts"])]
    counts = np.array([e["layers"][layer]["counts"] for e in entries], dtype=np.float64).T  # (bins, steps)
    shares = counts / np.maximum(counts.sum(0, keepdims=True), 1)
    low, high = first["range"]
    edges = np.linspace(low, high, len(first["counts"]) + 1)
    steps = [e["step"] for e in entries]
    figure = go.Figure(go.Heatmap(z=shares.astype(np.float32), x=steps, y=(edges[:-1] + edges[1:]) / 2,
                                  colorscale=plots.HEAT, zmin=0, colorbar=dict(title=t("runs.share"), thickness=12),
                                  hovertemplate=t("runs.histogram_hover")))
    figure.update_xaxes(title=axis_title("step"), **plots.integer_ticks(steps))
    figure.update_yaxes(title=t("runs.weight_of", layer=layer))
    return plots.tidy(figure, height, f"{label}: {layer}")
