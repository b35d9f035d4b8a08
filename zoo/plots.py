"""Plotly figure builders shared by the pages, and the rules every chart of the zoo follows so that
it reads on its own:

- a title, and both axes titled (with units) wherever there are axes; an image or a drawing has
  hidden axes instead, with square pixels (its y axis anchored to its x axis);
- legend names for people ("D's loss"), never variable names (`d_loss`): the metric keys a job
  reports become names through METRICS, in the reader's language (zoo/i18n/plots.toml), as every
  word a chart shows by default;
- an axis of a probability, accuracy or share fixed to [0, 1];
- whole-number ticks on an axis that counts (steps, layers, modes);
- quantities of different kinds or scales on separate panels, never on one y axis (probabilities on
  one [0, 1] axis excepted: one curve falling to nothing beside another that stays high is the point);
- no text under 10 px.

`check_readable` states the rules as code; tests/test_figures.py runs it on every figure a page draws.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas  # noqa: F401  whole before any page builds a figure: see below
import plotly.graph_objects as go

from zoo import i18n
from zoo.i18n import t

# Plotly checks every array against pandas as found in sys.modules, without waiting for an import under way: when
# one visitor's session first imported pandas (a table) while another's built a figure, that figure failed on the
# half-imported module (tests/bench/bench_class.py, 10 visitors). Importing it here, before the first figure, ends that.

ACCENT = "#6C5CE7"
SECOND = "#00B894"
PALETTE = ["#6C5CE7", "#00B894", "#E17055", "#0984E3", "#FDCB6E", "#D63031", "#00CEC9", "#A29BFE", "#636E72", "#E84393"]
HEAT = "Viridis"

# The figures of the live boards (curves, the playground, the toy game), redrawn a few times a second,
# are built in one constructor call with compact arrays and an empty template: plotly deep-copies a
# named template into every figure (~20 ms each) and re-validates on every update_* call; Streamlit's
# theme styles them.
PLAIN_TEMPLATE = go.layout.Template()
MIN_FONT_PX = 10
TITLE_MARGIN = 46
LEGEND_MARGIN = 26
LEGEND_ROW_PX = 20
NARROWEST_CHART_PX = 280
"""a chart in one of three columns: a legend row wider than this would wrap into the title"""
CURVE_POINTS = 400
"""the most points a curve of `curves` sends: a live chart is sent whole on every redraw, and a
2,000-step history in float64 made the toy game's two curve charts ~140 KB a redraw"""

# ---- what a reported number is ---------------------------------------------------------------------

PROBABILITY = "probability"
"""a probability, accuracy or share: its axis runs from 0 to 1"""
COUNT = "count"
"""a whole number: its axis has whole-number ticks"""
LOSS = "loss"
"""an objective to minimise: an open axis, its unit in the title"""
VALUE = "value"
"""any other quantity: an open axis"""


@dataclass(frozen=True)
class Metric:
    """What a number a job reports is, for a chart: its legend name, the title of its axis (with the
    unit) and its kind. Metrics with the same axis title share one axis; others get a panel each."""
    name: str
    axis: str
    kind: str = VALUE


METRICS: dict[str, tuple[str, str, str]] = {
    "loss": ("training_loss", "training_loss", LOSS),
    "train_loss": ("training_loss", "cross_entropy", LOSS),
    "test_loss": ("test_loss", "cross_entropy", LOSS),
    "validation_loss": ("validation_loss", "cross_entropy", LOSS),
    "validation_bpc": ("validation_piece", "bits_per_char", LOSS),
    "accuracy": ("held_out_accuracy", "held_out_accuracy", PROBABILITY),
    "reconstruction": ("reconstruction", "reconstruction", LOSS),
    "kl": ("kl", "kl", LOSS),
    "loss_plain": ("plain_net", "training_loss_nats", LOSS),
    "loss_residual": ("residual_net", "training_loss_nats", LOSS),
    "d_loss": ("d_loss", "loss_nats", LOSS),
    "g_loss": ("g_loss", "loss_nats", LOSS),
    "d_real": ("on_real", "d_real", PROBABILITY),
    "d_fake": ("on_generated", "d_real", PROBABILITY),
    "modes_covered": ("modes_covered", "modes_covered", COUNT),
    "dice": ("held_out_dice", "held_out_dice", PROBABILITY),
    "episode_return": ("training_episodes", "return", VALUE),
    "eval_return": ("greedy_evaluations", "return", VALUE),
    "epsilon": ("epsilon", "epsilon", PROBABILITY),
    "distance_untrained": ("untrained", "cosine_distance", VALUE),
    "distance": ("trained", "cosine_distance", VALUE),
    "on_data": ("on_data", "on_data", PROBABILITY),
    "lr": ("learning_rate", "learning_rate", VALUE),
    "epoch": ("epoch", "epoch", VALUE),
    "elapsed_s": ("elapsed", "seconds", VALUE),
}
"""the metrics jobs report, each with its legend name and axis title (keys under plots.metric.* and plots.axis.*)
and its kind; metrics with the same axis key share one axis"""


def metric(key: str, names: Mapping[str, Metric] | None = None) -> Metric:
    """The Metric of a reported key, in the reader's language: from `names` if given there, else METRICS; a key
    in neither is spelled out in English words, and shown as the key itself in other languages."""
    found = (names or {}).get(key)
    if found is not None:
        return found
    if key in METRICS:
        name, axis, kind = METRICS[key]
        return Metric(t(f"plots.metric.{name}"), t(f"plots.axis.{axis}"), kind)
    words = key.replace("_", " ") if i18n.language() == "en" else key
    return Metric(words, words)


# ---- axis rules ---------------------------------------------------------------------------------------

PROBABILITY_AXIS = dict(range=[0, 1], autorange=False, tickformat=".0%")


def integer_ticks(values: Iterable[float]) -> dict:
    """Tick settings that put only whole numbers on an axis of counts, 1, 2 or 5 times a power of ten apart."""
    values = [float(v) for v in values]
    span = max(max(values) - min(values), 1.0) if values else 1.0
    dtick = next(m * 10 ** e for e in range(15) for m in (1, 2, 5) if span / (m * 10 ** e) <= 8)
    return dict(tickformat=",d", dtick=dtick)


def title_layout(text: str) -> dict:
    """A figure's title as the zoo places it: on the left, at the top, so that a tall legend between it and the
    plot never runs into it (Plotly's default centres it in the top margin)."""
    return dict(text=text, x=0, xref="paper", xanchor="left", y=1, yref="container", yanchor="top", pad=dict(t=14))


def separators() -> dict:
    """Plotly's decimal and thousands separators as the reader's language writes numbers (Russian: 1 234,5)."""
    return dict(separators=",\u202f") if i18n.language() == "ru" else {}


def tidy(fig: go.Figure, height: int, title: str, legend: bool = False) -> go.Figure:
    """The zoo's one layout: height, tight margins, the title on the left, numbers as the reader writes them."""
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN + (LEGEND_MARGIN if legend else 0), b=10),
                      title=title_layout(title), **separators())
    return fig


def _integers_only(values: Sequence) -> bool:
    return len(values) > 0 and all(isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer()
                                   for v in values)


# ---- images -------------------------------------------------------------------------------------------

def _image_axes(fig: go.Figure) -> None:
    """Hidden axes, row 0 on top, the plot area shrunk (not the pixels stretched) to the image's shape."""
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")


def image(pixels: np.ndarray, title: str, height: int = 260, colorscale: str = "gray") -> go.Figure:
    """One greyscale image (H, W) in [0, 1], pixel-exact and square-pixelled, no axes."""
    fig = go.Figure(go.Heatmap(z=pixels, colorscale=colorscale, zmin=0, zmax=1, showscale=False,
                               hovertemplate=t("plots.hover.pixel") + "<extra></extra>"))
    _image_axes(fig)
    fig.update_yaxes(scaleanchor="x")
    return tidy(fig, height, title)


def overlay(pixels: np.ndarray, heat: np.ndarray, title: str, height: int = 260) -> go.Figure:
    """A heat map (saliency, Grad-CAM) laid over a greyscale image."""
    fig = image(pixels, title, height)
    fig.add_trace(go.Heatmap(z=heat, colorscale="Hot", zmin=0, zmax=1, opacity=0.55, showscale=False,
                             hovertemplate=t("plots.hover.importance") + "<extra></extra>"))
    return fig


def image_grid(images: np.ndarray, *, title: str, titles: Sequence[str] | None = None, cols: int = 8,
               height_per_row: int = 90, symmetric: bool = False, colorscale: str = HEAT,
               gap: float = 0.01, zrange: tuple[float, float] | None = None) -> go.Figure:
    """Small multiples of (K, H, W) maps, e.g. feature maps or filters, each with square pixels; each
    scaled on its own, or all on `zrange` (e.g. (0, 1) for images). Built in one constructor call with the
    cells' domains laid out here: with `make_subplots` and a trace added per cell, 64 cells took 270 ms instead
    of 25 ms (measured under load), the most of a CNN page's rerun when a class shares the server."""
    k = len(images)
    rows = int(np.ceil(k / cols))
    row_gap = 2 * gap if not titles else 0.3 / rows
    width, height = (1 - gap * (cols - 1)) / cols, (1 - row_gap * (rows - 1)) / rows
    data, layout, annotations = [], {}, []
    for i, z in enumerate(images):
        lim = float(np.abs(z).max()) or 1.0
        zmin, zmax = (-lim, lim) if symmetric else (float(z.min()), float(z.max()) if z.max() > z.min() else z.min() + 1)
        if zrange is not None:
            zmin, zmax = zrange
        suffix = str(i + 1) if i else ""
        left, top = (i % cols) * (width + gap), 1 - (i // cols) * (height + row_gap)
        data.append(dict(type="heatmap", z=z, colorscale="RdBu_r" if symmetric else colorscale, zmin=zmin, zmax=zmax,
                         showscale=False, hovertemplate=t("plots.hover.map", i=i) + "<extra></extra>",
                         xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
        layout[f"xaxis{suffix}"] = dict(domain=[left, min(1.0, left + width)], anchor=f"y{suffix}", visible=False,
                                        constrain="domain")
        layout[f"yaxis{suffix}"] = dict(domain=[max(0.0, top - height), top], anchor=f"x{suffix}", visible=False,
                                        autorange="reversed", constrain="domain", scaleanchor=f"x{suffix}")
        if titles:
            annotations.append(dict(text=titles[i], x=left + width / 2, y=top, xref="paper", yref="paper",
                                    xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=11)))
    fig = go.Figure(data, dict(layout, annotations=annotations))
    return tidy(fig, max(120, rows * height_per_row) + TITLE_MARGIN, title)


def animation(images: np.ndarray, labels: Sequence[str], *, title: str, height: int = 340,
              frame_ms: int = 120) -> go.Figure:
    """Greyscale images (F, H, W) in [0, 1] as an animation: Play / Pause buttons and a slider with `labels`."""
    pixel = t("plots.hover.pixel") + "<extra></extra>"
    heat = lambda z: go.Heatmap(z=z, colorscale="gray", zmin=0, zmax=1, showscale=False, hovertemplate=pixel)
    frames = [go.Frame(data=[heat(z)], name=str(i)) for i, z in enumerate(images)]
    jump = lambda i: dict(method="animate", label=labels[i],
                          args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
    play = dict(label=t("plots.play"), method="animate",
                args=[None, dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0),
                                 fromcurrent=True)])
    pause = dict(label=t("plots.pause"), method="animate",
                 args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
    fig = go.Figure(heat(images[0]), frames=frames)
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", buttons=[play, pause], showactive=False,
                          x=0, y=0, xanchor="left", yanchor="top", pad=dict(t=10))],
        sliders=[dict(steps=[jump(i) for i in range(len(images))], active=0, x=0.25, len=0.75, y=0,
                      yanchor="top", pad=dict(t=0), currentvalue=dict(visible=False))])
    _image_axes(fig)
    fig.update_yaxes(scaleanchor="x")
    return tidy(fig, height, title)


def drawing_canvas(pixels: np.ndarray, height: int = 360) -> go.Figure:
    """A 28x28 canvas to draw on with the lasso: each closed stroke is filled in."""
    size = pixels.shape[0]
    fig = image(pixels, t("plots.drawing"), height=height)
    grid = np.arange(size)
    xs, ys = np.meshgrid(grid, grid)
    fig.add_trace(go.Scatter(x=xs.ravel(), y=ys.ravel(), mode="markers", marker=dict(size=1, opacity=0),
                             hoverinfo="skip", showlegend=False))
    fig.update_layout(dragmode="lasso")
    fig.update_xaxes(range=[-0.5, size - 0.5])
    fig.update_yaxes(range=[size - 0.5, -0.5], autorange=None)
    return fig


# ---- charts -------------------------------------------------------------------------------------------

def probability_bars(probs: np.ndarray, classes: Sequence[str], *, title: str, label_title: str | None = None,
                     top: int = 10) -> go.Figure:
    """Horizontal bars of the `top` most likely classes, most likely on top, on a 0-100% axis; the classes'
    axis is titled `label_title` (by default "class")."""
    order = np.argsort(probs)[::-1][:top][::-1]
    colors = [ACCENT if i == order[-1] else "#B2BEC3" for i in order]
    fig = go.Figure(go.Bar(x=probs[order], y=[classes[i] for i in order], orientation="h", marker_color=colors,
                           text=[i18n.number(probs[i], ".1%") for i in order], textposition="auto",
                           hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    fig.update_xaxes(title=t("plots.probability"), **PROBABILITY_AXIS)
    fig.update_yaxes(title=label_title or t("plots.class"), type="category")
    return tidy(fig, 90 + 28 * len(order), title)


def confusion(matrix: np.ndarray, classes: Sequence[str], *, title: str) -> go.Figure:
    """Confusion matrix, rows true class, columns predicted, coloured by row share."""
    share = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(z=share, x=list(classes), y=list(classes), colorscale="Blues", zmin=0, zmax=1,
                               text=matrix, texttemplate="%{text}", showscale=False,
                               hovertemplate=t("plots.hover.confusion") + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title=t("plots.true_class"))
    fig.update_xaxes(title=t("plots.predicted_class"), tickangle=-40)
    return tidy(fig, 500, title)


def heatmap(z: np.ndarray, x: Sequence, y: Sequence, *, title: str, x_title: str, y_title: str,
            colorbar: str, zmin: float | None = None, zmax: float | None = None, height: int = 320) -> go.Figure:
    """A plain heat map of z (len(y), len(x)), e.g. a quantity per layer and training step; whole-number
    ticks on an axis of whole numbers, word ticks on an axis of words."""
    x, y = list(x), list(y)
    fig = go.Figure(go.Heatmap(z=z, x=x, y=y, colorscale=HEAT, zmin=zmin, zmax=zmax,
                               colorbar=dict(title=colorbar, thickness=12),
                               hovertemplate="%{y} · %{x}: %{z:.2f}<extra></extra>"))
    fig.update_xaxes(title=x_title, **(integer_ticks(x) if _integers_only(x) else dict(type="category")))
    fig.update_yaxes(title=y_title, autorange="reversed", **(integer_ticks(y) if _integers_only(y) else dict(type="category")))
    return tidy(fig, height, title)


ROW_CHARS = 40
"""characters per row of a coloured text: a long prompt wraps, each character keeping a readable square"""
VISIBLE_CHARS = {" ": "␣", "\n": "⏎", "\t": "⇥"}


def coloured_text(chars: str, values: Sequence[float], *, title: str, unit: str) -> go.Figure:
    """Each character of `chars` in a square cell coloured by its signed value (red above 0, blue below,
    white at 0), wrapped ROW_CHARS to a row, the hover giving the value: an attribution over a prompt."""
    values = np.asarray(values, dtype=np.float64)
    cols = min(len(chars), ROW_CHARS)
    rows = -(-len(chars) // cols)
    grid = np.full(rows * cols, np.nan)
    grid[:len(values)] = values
    cells = [VISIBLE_CHARS.get(ch, ch) for ch in chars] + [""] * (rows * cols - len(chars))
    limit = float(np.abs(values).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=grid.reshape(rows, cols), text=np.reshape(cells, (rows, cols)), texttemplate="%{text}",
        textfont=dict(size=13, family="monospace"), customdata=np.arange(rows * cols).reshape(rows, cols) + 1,
        colorscale="RdBu_r", zmid=0, zmin=-limit, zmax=limit, xgap=1, ygap=1,
        colorbar=dict(title=unit, thickness=12),
        hovertemplate=t("plots.hover.character", unit=unit) + "<extra></extra>"))
    _image_axes(fig)
    fig.update_yaxes(scaleanchor="x")
    return tidy(fig, TITLE_MARGIN + 20 + 26 * rows, title)


@dataclass
class Panel:
    """One y axis of a line chart: its title, its kind and its named (x, y) series."""
    axis: str
    kind: str = VALUE
    log: bool = False
    series: dict[str, tuple[Sequence[float], Sequence[float]]] = field(default_factory=dict)


def panels(chart_panels: Sequence[Panel], *, title: str, x_title: str, height: int = 260,
           colors: Mapping[str, str] | None = None) -> go.Figure:
    """Line charts stacked over one shared x axis, one y axis per panel: a probability panel runs from
    0 to 1, a count panel has whole-number ticks, and whole-number x values get whole-number ticks.
    A legend appears for panels of more than one line (a single line is named by its axis).
    Built in one constructor call on numpy arrays: the live boards redraw it twice a second."""
    n = len(chart_panels)
    gap = 0.12 if n > 1 else 0.0
    share = (1 - gap * (n - 1)) / n
    data, layout, all_x = [], {}, []
    color_index = 0
    for i, panel in enumerate(chart_panels):
        axis_id = f"y{i + 1 if i else ''}"
        top = 1 - i * (share + gap)
        values = []
        for name, (x, y) in panel.series.items():
            x, y = _floats(x), _floats(y)
            color = (colors or {}).get(name, PALETTE[color_index % len(PALETTE)])
            color_index += 1
            data.append(dict(type="scatter", x=x, y=y, name=name, yaxis=axis_id, xaxis="x",
                             mode="lines+markers" if len(x) < 40 else "lines", line=dict(color=color),
                             marker=dict(size=5), showlegend=len(panel.series) > 1, cliponaxis=panel.kind != PROBABILITY,
                             hovertemplate=f"{name}<br>{x_title} %{{x}}: %{{y:.4g}}<extra></extra>"))
            all_x.extend(x.tolist())
            values.extend(y[np.isfinite(y)].tolist())
        # stacked panels are short: the unit goes on a second line, so that the titles do not run into each other
        axis = dict(title=dict(text=panel.axis.replace(" (", "<br>(", 1) if n > 1 else panel.axis),
                    domain=[max(0.0, top - share), top], anchor="x")
        if panel.kind == PROBABILITY:
            axis.update(PROBABILITY_AXIS)
        elif panel.log:
            axis.update(type="log", exponentformat="power")
        elif panel.kind == COUNT or _integers_only(values):
            axis.update(integer_ticks([0, *values]), rangemode="tozero")
        layout[f"yaxis{i + 1 if i else ''}"] = axis
    x_axis = dict(title=dict(text=x_title), anchor=f"y{n if n > 1 else ''}")
    if _integers_only(all_x):
        x_axis.update(integer_ticks(all_x))
    layout.update(xaxis=x_axis, height=height + round(0.8 * height) * (n - 1), title=title_layout(title),
                  template=PLAIN_TEMPLATE, **separators(),
                  **_legend_above([trace["name"] for trace in data if trace["showlegend"]]))
    return go.Figure(data, layout)


def _floats(values: Sequence[float]) -> np.ndarray:
    """`values` as float64, or as they are if float32 (the live curves send half the bytes)."""
    array = np.asarray(values)
    return array if array.dtype == np.float32 else array.astype(np.float64)


def thin(x: np.ndarray, y: np.ndarray, limit: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most `limit` points of the line (x, y): the first, the last and, from each of (limit - 2) / 2
    equal runs between them, its lowest and its highest point in their order, so that a thinned
    curve keeps its noise and its spikes (an even stride would skip them)."""
    n = len(x)
    if n <= limit:
        return x, y
    inner = y[1:-1]
    width = -(-len(inner) // ((limit - 2) // 2))  # points per run, rounded up
    runs = -(-len(inner) // width)
    padded = lambda fill: np.pad(np.where(np.isnan(inner), fill, inner), (0, runs * width - len(inner)),
                                 constant_values=fill).reshape(runs, width)  # NaN and padding never win a run
    start = 1 + width * np.arange(runs)
    index = np.unique(np.concatenate([[0, n - 1], start + padded(np.inf).argmin(1), start + padded(-np.inf).argmax(1)]))
    return x[index], y[index]


def _legend_above(names: Sequence[str]) -> dict:
    """A legend between the title and the plot: in one row when it fits the narrowest chart, else one
    name a row, with the top margin to hold it either way."""
    if not names:
        return dict(margin=dict(l=10, r=10, t=TITLE_MARGIN, b=10))
    one_row = sum(7 * len(name) + 45 for name in names) <= NARROWEST_CHART_PX
    return dict(legend=dict(orientation="h" if one_row else "v", y=1.0, yanchor="bottom", x=0),
                margin=dict(l=10, r=10, t=TITLE_MARGIN + (LEGEND_MARGIN if one_row else LEGEND_ROW_PX * len(names) + 6),
                            b=10))


def curves(events: Sequence[dict], keys: Sequence[str], *, title: str, x_title: str | None = None,
           x_key: str = "step", names: Mapping[str, Metric] | None = None, height: int = 260) -> go.Figure:
    """One line per metric key against `x_key` (its axis titled `x_title`, by default "training step"), named
    through METRICS (or `names`): metrics that
    share an axis title share a panel, others get their own (a VAE's KL never sits beside its
    reconstruction, some 25 times larger). Metrics missing from an event are skipped. Live panels
    redraw it every tick, so each line is thinned to CURVE_POINTS and sent as float32."""
    grouped: dict[str, Panel] = {}
    colors = {}
    for i, key in enumerate(keys):
        m = metric(key, names)
        points = np.array([(e[x_key], e[key]) for e in events if key in e and x_key in e],
                          dtype=np.float32).reshape(-1, 2)
        panel = grouped.setdefault(m.axis, Panel(m.axis, m.kind))
        panel.series[m.name] = thin(points[:, 0], points[:, 1])
        colors[m.name] = PALETTE[i % len(PALETTE)]
    return panels(list(grouped.values()), title=title, x_title=x_title or t("plots.training_step"), height=height,
                  colors=colors)


def lines(x: Sequence, series: dict[str, Sequence[float]], *, title: str, x_title: str, y_title: str,
          kind: str = VALUE, log_y: bool = False, height: int = 280) -> go.Figure:
    """One line per named series over a shared x axis, on one y axis of the given kind."""
    x = list(x)
    return panels([Panel(y_title, kind, log_y, {name: (x, list(y)) for name, y in series.items()})],
                  title=title, x_title=x_title, height=height)


def tint(hex_color: str, amount: float) -> str:
    """`hex_color` mixed with white: 0 is white, 1 the colour itself."""
    rgb = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    return "rgb({},{},{})".format(*(round(255 + (c - 255) * amount) for c in rgb))


# ---- the rules as code ------------------------------------------------------------------------------------

PROBABILITY_WORDS = re.compile(r"accuracy|probabilit|\bdice\b|\bshare\b|epsilon|chance|confidence"
                               r"|准确率|概率|比例|置信|точност|вероятност|доля|долю|уверенност", re.IGNORECASE)
SCALE_RATIO = 10.0
"""lines whose typical sizes differ more than this (an order of magnitude) may not share a linear y axis"""
_CARTESIAN = {"scatter", "scattergl", "heatmap", "bar", "histogram"}


def _text(title: Any) -> str:
    if isinstance(title, dict):
        return str(title.get("text") or "")
    return str(title or "")


def _array(value: Any) -> list:
    """A trace's x or y as a flat list, from a list, a numpy array or plotly's base64 typed array."""
    if value is None:
        return []
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return flat.tolist()
    return np.asarray(value, dtype=object).ravel().tolist()


def _shape(z: Any) -> tuple[int, int]:
    """Rows and columns of a heat map's z, from nested lists, an array or a base64 typed array."""
    if z is None:
        return 0, 0
    if isinstance(z, dict) and "shape" in z:
        rows, cols = (int(n) for n in str(z["shape"]).split(","))
        return rows, cols
    array = np.asarray(z, dtype=object)
    return (array.shape[0], array.shape[1]) if array.ndim == 2 else (len(z), len(z[0]) if len(z) else 0)


def _numbers(values: list) -> np.ndarray | None:
    """The values as floats, or None when any is not a number (words, dates)."""
    if not values or any(isinstance(v, str) for v in values):
        return None
    array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return array[np.isfinite(array)]


def _axis_key(axis_id: str) -> str:
    return ("xaxis" if axis_id[0] == "x" else "yaxis") + axis_id[1:]


def _has_integer_ticks(axis: dict) -> bool:
    dtick = axis.get("dtick")
    return (str(axis.get("tickformat", "")).endswith("d") or axis.get("tickvals") is not None
            or axis.get("type") == "category" or (dtick is not None and float(dtick) >= 1 and float(dtick).is_integer()))


def _fonts(node: Any, path: str, problems: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("sliders", "updatemenus", "template"):
                continue  # an animation's slider hides its tick labels with a 1 px font on purpose
            if key.endswith("font") and isinstance(value, dict) and value.get("size") is not None:
                if float(value["size"]) < MIN_FONT_PX:
                    problems.append(f"{path}{key}: text of {value['size']} px, under {MIN_FONT_PX}")
            _fonts(value, f"{path}{key}.", problems)
    elif isinstance(node, (list, tuple)) and node and isinstance(node[0], dict):
        for i, value in enumerate(node):
            _fonts(value, f"{path}{i}.", problems)


def check_readable(figure: go.Figure | dict) -> list[str]:
    """What breaks the zoo's chart rules in `figure` (a Figure or its JSON as a dict); empty if nothing."""
    spec = figure.to_plotly_json() if isinstance(figure, go.Figure) else figure
    layout, data = spec.get("layout", {}), spec.get("data", [])
    problems = []
    if not _text(layout.get("title")).strip():
        problems.append("no title")
    values: dict[str, list] = {}
    lines_on: dict[str, list[np.ndarray]] = {}
    for trace in data:
        kind = trace.get("type", "scatter")
        name = str(trace.get("name") or "")
        if "_" in name:
            problems.append(f"trace name {name!r} looks like a variable name")
        if kind == "scatter3d":
            scene = layout.get("scene", {})
            for axis in ("xaxis", "yaxis", "zaxis"):
                if not _text(scene.get(axis, {}).get("title")).strip():
                    problems.append(f"3-D {axis} has no title")
            continue
        if kind not in _CARTESIAN:
            continue
        x_id, y_id = trace.get("xaxis", "x"), trace.get("yaxis", "y")
        x_axis, y_axis = layout.get(_axis_key(x_id), {}), layout.get(_axis_key(y_id), {})
        to_scale = y_axis.get("scaleanchor") == x_id or x_axis.get("scaleanchor") == y_id
        for axis_id, axis in ((x_id, x_axis), (y_id, y_axis)):
            if axis.get("visible") is False and not to_scale:
                problems.append(f"hidden axis {axis_id} on a plot without square pixels (scaleanchor)")
            elif axis.get("visible") is not False and not _text(axis.get("title")).strip():
                problems.append(f"axis {axis_id} has no title")
        if x_axis.get("visible") is False and y_axis.get("visible") is False:
            continue
        x, y = _array(trace.get("x")), _array(trace.get("y"))
        if kind == "heatmap":
            rows, cols = _shape(trace.get("z"))
            x, y = x or list(range(cols)), y or list(range(rows))
        elif not x and kind != "bar":
            x = list(range(len(y)))
        values.setdefault(x_id, []).extend(x)
        values.setdefault(y_id, []).extend(y)
        if kind in ("scatter", "scattergl") and "lines" in trace.get("mode", "lines") and y_axis.get("type") != "log" \
                and list(y_axis.get("range") or []) != [0, 1]:
            numbers = _numbers(_array(trace.get("y")))
            if numbers is not None and len(numbers) and np.abs(numbers).max() > 0:
                lines_on.setdefault(y_id, []).append(numbers)
    for axis_id, axis_values in values.items():
        axis = layout.get(_axis_key(axis_id), {})
        title = _text(axis.get("title"))
        if PROBABILITY_WORDS.search(title) and list(axis.get("range") or []) != [0, 1]:
            problems.append(f"axis {axis_id} ({title!r}) shows a probability or share but is not fixed to [0, 1]")
        numbers = _numbers(axis_values)
        if (numbers is not None and len(np.unique(numbers)) > 1 and np.all(numbers == np.round(numbers))
                and axis.get("type") != "log" and not _has_integer_ticks(axis)):
            problems.append(f"axis {axis_id} ({title!r}) counts whole numbers but may show fractional ticks")
    for axis_id, series in lines_on.items():
        typical = [float(np.median(np.abs(s[s != 0]))) for s in series if np.any(s != 0)]
        if len(typical) > 1 and max(typical) > SCALE_RATIO * min(typical):
            problems.append(f"axis {axis_id} holds lines {max(typical) / min(typical):.0f} times apart in scale")
    _fonts(layout, "layout.", problems)
    for i, trace in enumerate(data):
        _fonts(trace, f"data.{i}.", problems)
    return problems
