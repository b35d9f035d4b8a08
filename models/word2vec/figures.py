"""The Word2Vec page's figure: a map of words, each chosen word beside its nearest neighbours."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from models.word2vec.explore import WordMap
from zoo import plots
from zoo.i18n import t

ASSUMED_WIDTH_PX = 760
"""the plot area's width the label placement plans for (the page draws the map across its main column)"""
CHAR_PX, BOLD_CHAR_PX, LINE_PX, MARKER_PX = 7.0, 8.0, 15.0, 8.0
# Where a label may sit around its point: textposition -> (dx, dy) of the label box's centre from the
# point, in units of half the box's width (x) and height (y), plus a few pixels off the marker.
PLACES = {"top center": (0, 1), "bottom center": (0, -1), "middle right": (1, 0), "middle left": (-1, 0),
          "top right": (1, 1), "top left": (-1, 1), "bottom right": (1, -1), "bottom left": (-1, -1)}


def _overlaps(box: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def label_box(x: float, y: float, word: str, chosen: bool, place: str) -> tuple[float, float, float, float]:
    """The pixels (x0, y0, x1, y1) a label takes at `place` around its point at (x, y) pixels."""
    half_w, half_h = len(word) * (BOLD_CHAR_PX if chosen else CHAR_PX) / 2, LINE_PX / 2
    dx, dy = PLACES[place]
    cx, cy = x + dx * (half_w + MARKER_PX / 2), y + dy * (half_h + MARKER_PX / 2)
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def label_places(xy: np.ndarray, words: list[str], chosen: list[bool], px_per_unit: float) -> list[str | None]:
    """A textposition for each point's label such that no two labels overlap and no label covers a point,
    chosen words placed first (over points, if they must); None where no place is free (the word then
    shows on hover only)."""
    px = xy * px_per_unit
    markers = [(x - MARKER_PX / 2, y - MARKER_PX / 2, x + MARKER_PX / 2, y + MARKER_PX / 2) for x, y in px]
    labels: list[tuple[float, float, float, float]] = []
    places: list[str | None] = [None] * len(words)
    for i in sorted(range(len(words)), key=lambda i: not chosen[i]):
        boxes = {place: label_box(*px[i], words[i], chosen[i], place) for place in PLACES}
        free = [p for p, box in boxes.items() if not _overlaps(box, labels + markers)]
        if not free and chosen[i]:
            free = [p for p, box in boxes.items() if not _overlaps(box, labels)]
        if free:
            places[i] = free[0]
            labels.append(boxes[free[0]])
    return places


def map_figure(points: WordMap, method: str, height: int = 560) -> go.Figure:
    """The words as labelled points, one colour per chosen word and its neighbours, chosen words larger;
    on the flat map each label sits where it overlaps no other (a word with no free place shows on hover)."""
    three_d = points.coords.shape[1] == 3
    axis_titles = [f"{method} {k}" for k in range(1, points.coords.shape[1] + 1)]
    title = t("word2vec.map.title", method=method)
    if three_d:
        places = ["top center"] * len(points.words)
    else:
        xy = points.coords.astype(np.float64)
        span = np.maximum(xy.max(0) - xy.min(0), 1e-9)
        plot_height = height - 2 * plots.TITLE_MARGIN
        places = label_places(xy, points.words, points.chosen, min(ASSUMED_WIDTH_PX / span[0], plot_height / span[1]))
    traces = []
    for i, group in enumerate(dict.fromkeys(points.groups)):
        at = [j for j, g in enumerate(points.groups) if g == group]
        xyz = {axis: points.coords[at, k] for k, axis in enumerate("xyz"[:points.coords.shape[1]])}
        marker = dict(color=plots.PALETTE[i % len(plots.PALETTE)], size=[11 if points.chosen[j] else 6 for j in at])
        words = [points.words[j] for j in at]
        text = [("" if places[j] is None else f"<b>{points.words[j]}</b>" if points.chosen[j] else points.words[j])
                for j in at]
        kind = go.Scatter3d if three_d else go.Scatter
        traces.append(kind(**xyz, mode="markers+text", text=text, customdata=words, name=group, marker=marker,
                           textposition=[places[j] or "top center" for j in at], textfont=dict(size=12),
                           hovertemplate="%{customdata}<extra>" + t("word2vec.map.near_word", word=group) + "</extra>"))
    fig = go.Figure(traces)
    fig.update_layout(legend=dict(title=t("word2vec.map.near")))
    if three_d:
        fig.update_layout(scene=dict(**{f"{axis}axis": dict(title=t, showticklabels=False)
                                        for axis, t in zip("xyz", axis_titles)}))
    else:
        fig.update_xaxes(title=axis_titles[0], showticklabels=False, zeroline=False)
        fig.update_yaxes(title=axis_titles[1], showticklabels=False, zeroline=False, scaleanchor="x")
    return plots.tidy(fig, height, title)
