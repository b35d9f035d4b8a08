"""Plotly figures of the GNN page: a graph with its nodes coloured by class and confidence, the 2-D
embedding of every node animated over training. The zoo's colours come from `zoo.plots`."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from zoo import i18n
from zoo.i18n import t
from zoo.plots import HEAT, PALETTE, TITLE_MARGIN, title_layout

_AXIS = dict(visible=False, constrain="domain")


def _edge_lines(positions: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of every edge as one polyline broken by NaN, so all edges are a single trace."""
    segments = np.full((len(edges), 3, 2), np.nan)
    segments[:, 0], segments[:, 1] = positions[edges[:, 0]], positions[edges[:, 1]]
    return segments[..., 0].ravel(), segments[..., 1].ravel()


def _class_colours(classes: np.ndarray) -> list[str]:
    return [PALETTE[int(c) % len(PALETTE)] for c in classes]


def graph(positions: np.ndarray, edges: np.ndarray, names: Sequence[str], class_names: Sequence[str],
          predicted: np.ndarray, title: str, confidence: np.ndarray | None = None, truth: np.ndarray | None = None,
          labelled: Sequence[int] = (), height: int = 500) -> go.Figure:
    """The graph with every node coloured by its predicted class, faded by low confidence (when given),
    and the labelled nodes ringed in black. Trace 1 holds the nodes in index order, for click selection."""
    n = len(names)
    alpha = np.ones(n) if confidence is None else 0.25 + 0.75 * np.clip(confidence, 0, 1)
    ring = np.zeros(n, dtype=bool)
    ring[list(labelled)] = True
    hover = [f"{names[i]}: {class_names[predicted[i]]}"
             + ("" if confidence is None else f" ({i18n.number(float(confidence[i]), '.0%')})")
             + ("" if truth is None else "<br>" + t("gnn.figure.true_class", name=class_names[truth[i]]))
             + ("<br><b>" + t("gnn.figure.labelled") + "</b>" if ring[i] else "") for i in range(n)]
    size = 14 if n <= 100 else 9 if n <= 500 else 6
    ex, ey = _edge_lines(positions, edges)
    traces = [go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#B2BEC3", width=0.8), hoverinfo="skip",
                         showlegend=False),
              go.Scatter(x=positions[:, 0], y=positions[:, 1], mode="markers", text=hover, customdata=np.arange(n),
                         hovertemplate="%{text}<extra></extra>", showlegend=False,
                         marker=dict(color=[_rgba(c, a) for c, a in zip(_class_colours(predicted), alpha)],
                                     size=np.where(ring, size + 6, size),
                                     line=dict(color=np.where(ring, "black", "white"), width=np.where(ring, 3, 0.5))))]
    traces += [go.Scatter(x=[None], y=[None], mode="markers", name=name, marker=dict(color=PALETTE[c % len(PALETTE)]))
               for c, name in enumerate(class_names)]
    return go.Figure(traces, layout=dict(height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN, b=10),
                                         title=title_layout(title), xaxis=_AXIS,
                                         yaxis=dict(scaleanchor="x", **_AXIS), clickmode="event+select",
                                         legend=dict(orientation="v", y=1, yanchor="top", x=1.02)))


def receptive_field(positions: np.ndarray, edges: np.ndarray, names: Sequence[str], distance: np.ndarray,
                    layers: int, height: int = 420) -> go.Figure:
    """Nodes within `layers` hops of the chosen one coloured by their distance; the rest grey."""
    inside = (distance >= 0) & (distance <= layers)
    ex, ey = _edge_lines(positions, edges)
    near = inside[edges[:, 0]] & inside[edges[:, 1]]
    nx_, ny_ = _edge_lines(positions, edges[near])
    hover = [i18n.count("gnn.figure.hops", d, node=name) if d >= 0 else t("gnn.figure.unreachable", node=name)
             for name, d in zip(names, distance.tolist())]
    return go.Figure([
        go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#DFE6E9", width=0.8), hoverinfo="skip"),
        go.Scatter(x=nx_, y=ny_, mode="lines", line=dict(color="#636E72", width=1.4), hoverinfo="skip"),
        go.Scatter(x=positions[~inside, 0], y=positions[~inside, 1], mode="markers", hoverinfo="text",
                   text=[h for h, i in zip(hover, inside) if not i], marker=dict(color="#DFE6E9", size=9)),
        go.Scatter(x=positions[inside, 0], y=positions[inside, 1], mode="markers", hoverinfo="text",
                   text=[h for h, i in zip(hover, inside) if i],
                   marker=dict(color=distance[inside], colorscale=HEAT, cmin=0, cmax=max(layers, 1), size=13,
                               colorbar=dict(title=t("gnn.figure.hops_colorbar"), thickness=10, dtick=1),
                               line=dict(color="white", width=1)))],
        layout=dict(height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN, b=10), xaxis=_AXIS, showlegend=False,
                    title=title_layout(i18n.count("gnn.figure.receptive", layers,
                                                  node=names[int(np.flatnonzero(distance == 0)[0])])),
                    yaxis=dict(scaleanchor="x", **_AXIS)))


def embedding_animation(frames: Sequence[tuple[int, np.ndarray]], truth: np.ndarray, class_names: Sequence[str],
                        names: Sequence[str], labelled: Sequence[int] = (), height: int = 460,
                        frame_ms: int = 150) -> go.Figure:
    """Every node's 2-D embedding at each (step, (N, 2)) frame, coloured by its true class, labelled nodes
    ringed: Play / Pause and a slider over the steps. The axes are fixed to tanh's range."""
    ring = np.zeros(len(truth), dtype=bool)
    ring[list(labelled)] = True
    marker = dict(color=_class_colours(truth), size=np.where(ring, 14, 9),
                  line=dict(color=np.where(ring, "black", "white"), width=np.where(ring, 2.5, 0.5)))
    text = [f"{name}: {class_names[c]}" for name, c in zip(names, truth)]

    def points(embedding: np.ndarray) -> go.Scatter:
        return go.Scatter(x=embedding[:, 0], y=embedding[:, 1], mode="markers", marker=marker, text=text,
                          hovertemplate="%{text}<extra></extra>", showlegend=False)

    steps = [str(step) for step, _ in frames]
    jump = lambda s: dict(method="animate", label=s, args=[[s], dict(mode="immediate", frame=dict(duration=0))])
    play = dict(label=t("gnn.figure.play"), method="animate",
                args=[None, dict(frame=dict(duration=frame_ms, redraw=False), transition=dict(duration=frame_ms // 2),
                                 fromcurrent=True)])
    pause = dict(label=t("gnn.figure.pause"), method="animate", args=[[None], dict(mode="immediate", frame=dict(duration=0))])
    legend = [go.Scatter(x=[None], y=[None], mode="markers", name=name, marker=dict(color=PALETTE[c % len(PALETTE)]))
              for c, name in enumerate(class_names)]
    fig = go.Figure([points(frames[-1][1])] + legend,
                    frames=[go.Frame(data=[points(e)], traces=[0], name=s) for s, (_, e) in zip(steps, frames)])
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN, b=10),
        title=title_layout(t("gnn.figure.embedding_title")),
        xaxis=dict(range=[-1.1, 1.1], title=t("gnn.figure.embedding_axis", unit=1), zeroline=False),
        yaxis=dict(range=[-1.1, 1.1], title=t("gnn.figure.embedding_axis", unit=2), zeroline=False, scaleanchor="x"),
        legend=dict(orientation="v", y=1, yanchor="top", x=1.02),
        updatemenus=[dict(type="buttons", direction="left", buttons=[play, pause], showactive=False,
                          x=0, y=-0.08, xanchor="left", yanchor="top")],
        sliders=[dict(steps=[jump(s) for s in steps], active=len(steps) - 1, x=0.2, len=0.8, y=-0.08,
                      yanchor="top", currentvalue=dict(prefix=t("gnn.figure.step_prefix")))])
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def adjacency(matrix: np.ndarray, names: Sequence[str], height: int = 520) -> go.Figure:
    """A node-by-node matrix as a heat map, rows and columns in the given order (names as categories, even
    when they look like numbers)."""
    fig = go.Figure(go.Heatmap(z=matrix, x=list(names), y=list(names), colorscale=HEAT, zmin=0,
                               colorbar=dict(title=t("gnn.figure.weight"), thickness=12),
                               hovertemplate=t("gnn.figure.adjacency_hover") + ": %{z:.3f}<extra></extra>"))
    fig.update_xaxes(type="category", title=t("gnn.figure.neighbour"))
    fig.update_yaxes(type="category", autorange="reversed", title=t("gnn.figure.node"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN, b=10),
                      title=title_layout(t("gnn.figure.adjacency_title")))
    return fig
