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


CELL_PX = 11
"""a character's row and column in the large attention map: room for a readable 11 px label"""
MAX_ATTENTION_CHARS = 72
"""the large map shows at most the last this many characters, so that each keeps its readable cell"""
LABEL_FONT = dict(size=11, family="monospace")


def attention_figure(weights: np.ndarray, chars: str, title: str) -> go.Figure:
    """One head's (T, T) weights, queries down, keys across, a character on every row and column in
    square cells; a long prompt shows its last MAX_ATTENTION_CHARS characters (their weights to the
    earlier ones are left out, so those rows add up to less than 1)."""
    n = min(len(chars), MAX_ATTENTION_CHARS)
    cut = f" (the last {n} of {len(chars)} characters)" if n < len(chars) else ""
    weights, chars = weights[-n:, -n:], chars[-n:]
    labels = list(shown(chars))
    ticks = dict(tickmode="array", tickvals=list(range(n)), ticktext=labels, tickangle=0, tickfont=LABEL_FONT)
    fig = go.Figure(go.Heatmap(z=np.round(weights, 3), colorscale=plots.HEAT, zmin=0,
                               colorbar=dict(title="weight", thickness=12),
                               customdata=[[f"{labels[q]} reads {labels[k]}" for k in range(n)] for q in range(n)],
                               hovertemplate="%{customdata}: %{z:.3f}<extra></extra>"))
    fig.update_xaxes(title="key: the character looked at", side="bottom", **ticks)
    fig.update_yaxes(title="query: the position reading", autorange="reversed", scaleanchor="x", constrain="domain",
                     constraintoward="top", **ticks)
    return plots.tidy(fig, CELL_PX * n + 160, title + cut)


def lens_figure(lens: np.ndarray, chars: str, labels: list[str]) -> go.Figure:
    """Rows: the embeddings and each block; columns: positions; each cell the character that layer
    would predict next there (`labels`: the vocabulary as shown), coloured by its probability."""
    top = lens.argmax(-1)  # (L + 1, T)
    rows = ["embeddings"] + [f"after block {i}" for i in range(1, len(lens))]
    fig = go.Figure(go.Heatmap(
        z=np.round(lens.max(-1), 3), text=[[labels[i] for i in row] for row in top], texttemplate="%{text}",
        textfont=LABEL_FONT, x=list(range(len(chars))), y=rows, colorscale=plots.HEAT, zmin=0, zmax=1,
        colorbar=dict(title="probability", thickness=12, tickformat=".0%"),
        hovertemplate="%{y}, position %{x}: '%{text}' %{z:.0%}<extra></extra>"))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(chars))), ticktext=list(shown(chars)), tickangle=0,
                     tickfont=LABEL_FONT, title="the character read at each position")
    fig.update_yaxes(autorange="reversed", title="layer")
    return plots.tidy(fig, 130 + 42 * len(rows), f"What each layer would predict next, over the last {len(chars)} "
                                                   "characters")
