"""Plotly figure builders shared by the pages: one look for every chart in the zoo."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

ACCENT = "#6C5CE7"
SECOND = "#00B894"
PALETTE = ["#6C5CE7", "#00B894", "#E17055", "#0984E3", "#FDCB6E", "#D63031", "#00CEC9", "#A29BFE", "#636E72", "#E84393"]
HEAT = "Viridis"


def tidy(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    """The zoo's one layout: height, tight margins, an optional title."""
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      title=title)  # no template: Streamlit themes the chart, and applying one costs ~60 ms a figure
    return fig


def image(pixels: np.ndarray, title: str | None = None, height: int = 260, colorscale: str = "gray") -> go.Figure:
    """One greyscale image (H, W) in [0, 1], pixel-exact, no axes."""
    fig = go.Figure(go.Heatmap(z=pixels, colorscale=colorscale, zmin=0, zmax=1, showscale=False,
                               hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return tidy(fig, height, title)


def overlay(pixels: np.ndarray, heat: np.ndarray, title: str | None = None, height: int = 260) -> go.Figure:
    """A heat map (saliency, Grad-CAM) laid over a greyscale image."""
    fig = image(pixels, title, height)
    fig.add_trace(go.Heatmap(z=heat, colorscale="Hot", zmin=0, zmax=1, opacity=0.55, showscale=False,
                             hovertemplate="importance %{z:.2f}<extra></extra>"))
    return fig


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, cols: int = 8,
               height_per_row: int = 90, symmetric: bool = False, colorscale: str = HEAT,
               gap: float = 0.01, zrange: tuple[float, float] | None = None) -> go.Figure:
    """Small multiples of (K, H, W) maps, e.g. feature maps or filters; each scaled on its own,
    or all on `zrange` (e.g. (0, 1) for images)."""
    k = len(images)
    rows = int(np.ceil(k / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles) if titles else None,
                        horizontal_spacing=gap, vertical_spacing=2 * gap if not titles else 0.06)
    for i, z in enumerate(images):
        lim = float(np.abs(z).max()) or 1.0
        zmin, zmax = (-lim, lim) if symmetric else (float(z.min()), float(z.max()) if z.max() > z.min() else z.min() + 1)
        if zrange is not None:
            zmin, zmax = zrange
        fig.add_trace(go.Heatmap(z=z, colorscale="RdBu_r" if symmetric else colorscale, zmin=zmin, zmax=zmax,
                                 showscale=False, hovertemplate=f"map {i}: %{{z:.2f}}<extra></extra>"),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    if titles:
        fig.update_annotations(font_size=10)
    return tidy(fig, max(120, rows * height_per_row))


def probability_bars(probs: np.ndarray, classes: Sequence[str], top: int = 10) -> go.Figure:
    """Horizontal bars of the `top` most likely classes, most likely on top."""
    order = np.argsort(probs)[::-1][:top][::-1]
    colors = [ACCENT if i == order[-1] else "#B2BEC3" for i in order]
    fig = go.Figure(go.Bar(x=probs[order], y=[classes[i] for i in order], orientation="h", marker_color=colors,
                           text=[f"{probs[i]:.1%}" for i in order], textposition="auto",
                           hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return tidy(fig, 40 + 28 * len(order))


def confusion(matrix: np.ndarray, classes: Sequence[str]) -> go.Figure:
    """Confusion matrix, rows true class, columns predicted, coloured by row share."""
    share = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(z=share, x=list(classes), y=list(classes), colorscale="Blues", zmin=0, zmax=1,
                               text=matrix, texttemplate="%{text}", showscale=False,
                               hovertemplate="true %{y}<br>predicted %{x}<br>%{text} images<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title="true")
    fig.update_xaxes(title="predicted", tickangle=-40)
    return tidy(fig, 480)


def curves(events: Iterable[dict], keys: Sequence[str], title: str | None = None, height: int = 280) -> go.Figure:
    """Line per metric against the step; metrics missing from an event are skipped."""
    events = list(events)
    fig = go.Figure()
    for i, key in enumerate(keys):
        points = [(e["step"], e[key]) for e in events if key in e]
        if points:
            x, y = zip(*points)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers" if len(points) < 40 else "lines",
                                     name=key, line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_xaxes(title="step")
    fig.update_layout(legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return tidy(fig, height, title)


def drawing_canvas(pixels: np.ndarray, height: int = 330) -> go.Figure:
    """A 28x28 canvas to draw on with the lasso: each closed stroke is filled in."""
    size = pixels.shape[0]
    fig = image(pixels, height=height)
    grid = np.arange(size)
    xs, ys = np.meshgrid(grid, grid)
    fig.add_trace(go.Scatter(x=xs.ravel(), y=ys.ravel(), mode="markers", marker=dict(size=1, opacity=0),
                             hoverinfo="skip", showlegend=False))
    fig.update_layout(dragmode="lasso")
    fig.update_xaxes(range=[-0.5, size - 0.5])
    fig.update_yaxes(range=[size - 0.5, -0.5], autorange=None)
    return fig


def heatmap(z: np.ndarray, x: Sequence, y: Sequence, title: str | None = None, x_title: str | None = None,
            y_title: str | None = None, colorbar: str | None = None, zmin: float | None = None,
            zmax: float | None = None, height: int = 320) -> go.Figure:
    """A plain heat map of z (len(y), len(x)), e.g. a quantity per layer and training step."""
    fig = go.Figure(go.Heatmap(z=z, x=list(x), y=list(y), colorscale=HEAT, zmin=zmin, zmax=zmax,
                               colorbar=dict(title=colorbar, thickness=12),
                               hovertemplate="%{y} · %{x}: %{z:.2f}<extra></extra>"))
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=y_title, autorange="reversed")
    return tidy(fig, height, title)


def lines(x: Sequence, series: dict[str, Sequence[float]], title: str | None = None, x_title: str | None = None,
          y_title: str | None = None, log_y: bool = False, height: int = 280) -> go.Figure:
    """One line per named series over a shared x axis."""
    fig = go.Figure()
    for i, (name, y) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=list(x), y=list(y), mode="lines+markers", name=name,
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=y_title, type="log" if log_y else None, exponentformat="power" if log_y else None)
    fig.update_layout(legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return tidy(fig, height, title)


# Figures of the live boards (playground, toy game, live curves), redrawn a few times a second:
# each is built in one constructor call with compact arrays and an empty template (plotly
# deep-copies a named template into every figure, ~20 ms each, and re-validates on every update_*
# call; Streamlit's theme styles them).
PLAIN_TEMPLATE = go.layout.Template()


def tint(hex_color: str, amount: float) -> str:
    """`hex_color` mixed with white: 0 is white, 1 the colour itself."""
    rgb = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    return "rgb({},{},{})".format(*(round(255 + (c - 255) * amount) for c in rgb))


def animation(images: np.ndarray, labels: Sequence[str], height: int = 340, frame_ms: int = 120) -> go.Figure:
    """Greyscale images (F, H, W) in [0, 1] as an animation: Play / Pause buttons and a slider with `labels`."""
    heat = lambda z: go.Heatmap(z=z, colorscale="gray", zmin=0, zmax=1, showscale=False,
                                hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>")
    frames = [go.Frame(data=[heat(z)], name=str(i)) for i, z in enumerate(images)]
    jump = lambda i: dict(method="animate", label=labels[i],
                          args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
    play = dict(label="Play", method="animate",
                args=[None, dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0),
                                 fromcurrent=True)])
    pause = dict(label="Pause", method="animate",
                 args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
    fig = go.Figure(heat(images[0]), frames=frames)
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", buttons=[play, pause], showactive=False,
                          x=0, y=0, xanchor="left", yanchor="top", pad=dict(t=10))],
        sliders=[dict(steps=[jump(i) for i in range(len(images))], active=0, x=0.25, len=0.75, y=0,
                      yanchor="top", pad=dict(t=0), currentvalue=dict(visible=False))])
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return tidy(fig, height)


def tradeoff(x: Sequence[float], left: tuple[str, Sequence[float]], right: tuple[str, Sequence[float]],
             x_title: str, log_x: bool = False, height: int = 300) -> go.Figure:
    """Two quantities against one x, each on its own y axis (left solid, right dotted), e.g. quality
    and cost against the number of sampling steps."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for (name, y), color, dash, secondary in ((left, ACCENT, None, False), (right, SECOND, "dot", True)):
        fig.add_trace(go.Scatter(x=list(x), y=list(y), mode="lines+markers", name=name,
                                 line=dict(color=color, dash=dash)), secondary_y=secondary)
        fig.update_yaxes(title_text=name, secondary_y=secondary)
    fig.update_xaxes(title=x_title, type="log" if log_x else None, tickvals=list(x))
    fig.update_layout(legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return tidy(fig, height)


def live_curves(events: Sequence[dict], keys: Sequence[str], height: int = 250) -> go.Figure:
    """`curves` for a board redrawn live: one constructor call on numpy arrays, a fraction of the cost."""
    traces = []
    for i, key in enumerate(keys):
        points = np.array([(e["step"], e[key]) for e in events if key in e], dtype=np.float64).reshape(-1, 2)
        traces.append(go.Scatter(x=points[:, 0], y=points[:, 1], mode="lines", name=key,
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    return go.Figure(traces, layout=dict(
        height=height, margin=dict(l=10, r=10, t=10, b=10), template=PLAIN_TEMPLATE, xaxis=dict(title="step"),
        legend=dict(orientation="h", y=1.02, yanchor="bottom")))
