"""The Transformer page's figures: one head's attention weights and the logit lens, with the
characters on the axes."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from zoo import plots
from zoo.data.text import UNKNOWN
from zoo.i18n import t

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
    if n < len(chars):
        title = t("transformer.attention.cut_title", title=title, n=n, total=len(chars))
    weights, chars = weights[-n:, -n:], chars[-n:]
    labels = list(shown(chars))
    ticks = dict(tickmode="array", tickvals=list(range(n)), ticktext=labels, tickangle=0, tickfont=LABEL_FONT)
    fig = go.Figure(go.Heatmap(z=np.round(weights, 3), colorscale=plots.HEAT, zmin=0,
                               colorbar=dict(title=t("transformer.attention.weight"), thickness=12),
                               customdata=[[t("transformer.attention.reads", query=labels[q], looked=labels[k])
                                            for k in range(n)] for q in range(n)],
                               hovertemplate="%{customdata}: %{z:.3f}<extra></extra>"))
    fig.update_xaxes(title=t("transformer.attention.key_axis"), side="bottom", **ticks)
    fig.update_yaxes(title=t("transformer.attention.query_axis"), autorange="reversed", scaleanchor="x",
                     constrain="domain", constraintoward="top", **ticks)
    return plots.tidy(fig, CELL_PX * n + 160, title)


def lens_figure(lens: np.ndarray, chars: str, labels: list[str]) -> go.Figure:
    """Rows: the embeddings and each block; columns: positions; each cell the character that layer
    would predict next there (`labels`: the vocabulary as shown), coloured by its probability."""
    top = lens.argmax(-1)  # (L + 1, T)
    rows = [t("transformer.lens.embeddings")] + [t("transformer.lens.after_block", block=i)
                                                 for i in range(1, len(lens))]
    fig = go.Figure(go.Heatmap(
        z=np.round(lens.max(-1), 3), text=[[labels[i] for i in row] for row in top], texttemplate="%{text}",
        textfont=LABEL_FONT, x=list(range(len(chars))), y=rows, colorscale=plots.HEAT, zmin=0, zmax=1,
        colorbar=dict(title=t("transformer.lens.probability"), thickness=12, tickformat=".0%"),
        hovertemplate=t("transformer.lens.hover")))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(chars))), ticktext=list(shown(chars)), tickangle=0,
                     tickfont=LABEL_FONT, title=t("transformer.lens.x_axis"))
    fig.update_yaxes(autorange="reversed", title=t("transformer.lens.y_axis"))
    return plots.tidy(fig, 130 + 42 * len(rows), t("transformer.lens.title", n=len(chars)))
