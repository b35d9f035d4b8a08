"""The Word2Vec page's figure: a map of words, each chosen word beside its nearest neighbours."""
from __future__ import annotations

import plotly.graph_objects as go

from models.word2vec.explore import WordMap
from zoo import plots


def map_figure(points: WordMap, height: int = 520) -> go.Figure:
    """The words as labelled points, one colour per chosen word and its neighbours, chosen words larger."""
    three_d = points.coords.shape[1] == 3
    traces = []
    for i, group in enumerate(dict.fromkeys(points.groups)):
        at = [j for j, g in enumerate(points.groups) if g == group]
        xyz = {axis: points.coords[at, k] for k, axis in enumerate("xyz"[:points.coords.shape[1]])}
        marker = dict(color=plots.PALETTE[i % len(plots.PALETTE)], size=[11 if points.chosen[j] else 6 for j in at])
        text = [f"<b>{points.words[j]}</b>" if points.chosen[j] else points.words[j] for j in at]
        kind = go.Scatter3d if three_d else go.Scatter
        traces.append(kind(**xyz, mode="markers+text", text=text, textposition="top center", name=group,
                           marker=marker, hovertemplate="%{text}<extra>" + group + "</extra>"))
    fig = go.Figure(traces)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(title="near"))
    if not three_d:
        fig.update_xaxes(showticklabels=False, zeroline=False)
        fig.update_yaxes(showticklabels=False, zeroline=False, scaleanchor="x")
    return fig
