"""The RNN page's figures: units against the characters read, the mean of each gate per character,
and a series beside its forecasts."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from zoo import plots
from zoo.data.series import TimeSeries, column_label
from zoo.i18n import t


def shown(ch: str) -> str:
    """A character as the page shows it: spaces, line ends and tabs visible."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(ch, ch)


EACH_CHARACTER_UP_TO = 48
"""a text this short gets every character on the x axis; a longer one the first character of each word"""
LABEL_FONT = dict(size=11, family="monospace")


def _characters_on_x(fig: go.Figure, chars: str) -> go.Figure:
    """Characters under their columns when they fit; otherwise each word, written upwards under its first
    character, words closer than a fortieth of the text skipped (the hover names every character)."""
    if len(chars) <= EACH_CHARACTER_UP_TO:
        return fig.update_xaxes(tickvals=list(range(len(chars))), ticktext=[shown(ch) for ch in chars], tickangle=0,
                                tickfont=LABEL_FONT, title=t("rnn.figure.character_read"))
    gap = max(1, len(chars) // 40)
    starts, last = [], -gap
    for i, ch in enumerate(chars):
        if not ch.isspace() and (i == 0 or chars[i - 1].isspace()) and i - last >= gap:
            starts.append(i)
            last = i
    words = [chars[i:].split(None, 1)[0][:12] for i in starts]
    return fig.update_xaxes(tickvals=starts, ticktext=words, tickangle=-90, tickfont=LABEL_FONT,
                            title=t("rnn.figure.text_read"))


def char_heatmap(z: np.ndarray, chars: str, units: np.ndarray, title: str, signed: bool) -> go.Figure:
    """Units (rows) against the characters read (columns), 9 px a unit."""
    limit = float(np.abs(z).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(len(chars))), y=[t("rnn.figure.unit", unit=int(u)) for u in units],
        zmin=-limit if signed else 0, zmax=limit if signed else 1, colorscale="RdBu_r" if signed else plots.HEAT,
        colorbar=dict(thickness=12, title=t("rnn.figure.value")),
        customdata=np.tile([shown(ch) for ch in chars], (len(units), 1)), hovertemplate=t("rnn.figure.hover")))
    fig.update_yaxes(showticklabels=False, ticks="", autorange="reversed",
                     title=t("rnn.figure.units_axis", n=len(units)))
    _characters_on_x(fig, chars)
    return plots.tidy(fig, 150 + 9 * len(units), title)


def gate_means(gates: dict[str, np.ndarray], chars: str) -> go.Figure:
    """Each gate's mean over the units (rows of its (units, characters) array) after each character."""
    fig = plots.lines(range(len(chars)), {t(f"rnn.gate_series.{name}"): g.mean(0) for name, g in gates.items()},
                      title=t("rnn.figure.gate_means_title"), x_title=t("rnn.figure.character_read"),
                      y_title=t("rnn.figure.gate_means_axis"), kind=plots.PROBABILITY, height=300)
    return _characters_on_x(fig, chars)


def forecast_figure(series: TimeSeries, horizon: int, baseline: dict, events: list[dict]) -> go.Figure:
    """The recent history, the held-out tail, the seasonal-naive forecast and the network's latest one
    (a job's events are left out once the series or horizon they were for has changed)."""
    n = len(series.values)
    x = series.dates if series.dates is not None else list(range(n))
    start = max(0, n - max(8 * horizon, 240))
    tail = x[n - horizon:]
    same = bool(events) and events[0].get("actual") == series.values[-horizon:].tolist()
    latest = next((e for e in reversed(events) if "forecast" in e), None) if same else None
    fig = go.Figure([
        go.Scatter(x=x[start:n - horizon + 1], y=series.values[start:n - horizon + 1], name=t("rnn.forecast.history"),
                   line=dict(color="#636E72")),
        go.Scatter(x=tail, y=series.values[-horizon:], name=t("rnn.forecast.held_out"),
                   line=dict(color="#2D3436", width=3)),
        go.Scatter(x=tail, y=baseline["naive"], name=t("rnn.forecast.naive", mase=baseline["mase_naive"]),
                   line=dict(color=plots.PALETTE[2], dash="dash"))])
    if latest is not None:
        fig.add_trace(go.Scatter(x=tail, y=latest["forecast"], name=t("rnn.forecast.network", cell=events[0]["cell"],
                                                                      step=latest["step"], mase=latest["mase"]),
                                 line=dict(color=plots.ACCENT, width=3)))
    if series.dates is not None:
        fig.update_xaxes(title=t("rnn.forecast.date"))
    else:
        fig.update_xaxes(title=t("rnn.forecast.time_step"), **plots.integer_ticks(x[start:]))
    column = column_label(series.value_column)
    fig.update_yaxes(title=column)
    fig.update_layout(legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))
    return plots.tidy(fig, 400, t("rnn.forecast.figure_title", column=column, horizon=horizon), legend=True)
