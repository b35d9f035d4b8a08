"""The Transformer page's figures: one head's attention weights and the logit lens, with the
characters on the axes."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from zoo import plots
from zoo.data.text import UNKNOWN

SHOWN = {" ": "␣", "\n": "↵", "\t": "⇥", UNKNOWN: "�"}


def shown(text: str) -> str:
    """Text with its spaces, line ends and unknown characters visible, for axis labels."""
    return "".join(SHOWN.get(ch, ch) for ch in text)


def attention_figure(weights: np.ndarray, chars: str, title: str, height: int = 520) -> go.Figure:
    """One head's (T, T) weights, queries down, keys across, with the characters on the axes when they fit."""
    fig = plots.heatmap(np.round(weights, 3), range(len(chars)), range(len(chars)), title=title, zmin=0,
                        x_title="key: the character looked at", y_title="query: the position reading",
                        colorbar="weight", height=height)
    if len(chars) <= 80:
        ticks = dict(tickmode="array", tickvals=list(range(len(chars))), ticktext=list(shown(chars)), tickangle=0)
        fig.update_xaxes(**ticks)
        fig.update_yaxes(**ticks)
    return fig


def lens_figure(lens: np.ndarray, chars: str, labels: list[str]) -> go.Figure:
    """Rows: the embeddings and each block; columns: positions; each cell the character that layer
    would predict next there (`labels`: the vocabulary as shown), coloured by its probability."""
    top = lens.argmax(-1)  # (L + 1, T)
    rows = ["embeddings"] + [f"after block {i}" for i in range(1, len(lens))]
    fig = go.Figure(go.Heatmap(
        z=np.round(lens.max(-1), 3), text=[[labels[i] for i in row] for row in top], texttemplate="%{text}",
        x=list(range(len(chars))), y=rows, colorscale=plots.HEAT, zmin=0, zmax=1,
        colorbar=dict(title="p", thickness=12), hovertemplate="%{y}, position %{x}: '%{text}' %{z:.0%}<extra></extra>"))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(chars))), ticktext=list(shown(chars)), tickangle=0,
                     title="the character read at each position")
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=90 + 42 * len(rows), margin=dict(l=10, r=10, t=10, b=10))
    return fig
