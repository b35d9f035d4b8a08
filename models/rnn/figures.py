"""The RNN page's figures: units against the characters read, the mean of each gate per character,
and a series beside its forecasts."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from zoo import plots
from zoo.data.series import TimeSeries


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
                                tickfont=LABEL_FONT, title="character read")
    gap = max(1, len(chars) // 40)
    starts, last = [], -gap
    for i, ch in enumerate(chars):
        if not ch.isspace() and (i == 0 or chars[i - 1].isspace()) and i - last >= gap:
            starts.append(i)
            last = i
    words = [chars[i:].split(None, 1)[0][:12] for i in starts]
    return fig.update_xaxes(tickvals=starts, ticktext=words, tickangle=-90, tickfont=LABEL_FONT,
                            title="text read (each word under its first character)")


def char_heatmap(z: np.ndarray, chars: str, units: np.ndarray, title: str, signed: bool) -> go.Figure:
    """Units (rows) against the characters read (columns), 9 px a unit."""
    limit = float(np.abs(z).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(len(chars))), y=[f"unit {u}" for u in units], zmin=-limit if signed else 0,
        zmax=limit if signed else 1, colorscale="RdBu_r" if signed else plots.HEAT,
        colorbar=dict(thickness=12, title="value"), customdata=np.tile([shown(ch) for ch in chars], (len(units), 1)),
        hovertemplate="%{y} after '%{customdata}': %{z:.2f}<extra></extra>"))
    fig.update_yaxes(showticklabels=False, ticks="", autorange="reversed", title=f"unit ({len(units)} liveliest)")
    _characters_on_x(fig, chars)
    return plots.tidy(fig, 150 + 9 * len(units), title)


def gate_means(gates: dict[str, np.ndarray], chars: str) -> go.Figure:
    """Each gate's mean over the units (rows of its (units, characters) array) after each character."""
    fig = plots.lines(range(len(chars)), {f"{name} gate": g.mean(0) for name, g in gates.items()},
                      title="Each gate's mean over the units, after each character", x_title="character read",
                      y_title="gate value, mean over units", kind=plots.PROBABILITY, height=300)
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
        go.Scatter(x=x[start:n - horizon + 1], y=series.values[start:n - horizon + 1], name="history",
                   line=dict(color="#636E72")),
        go.Scatter(x=tail, y=series.values[-horizon:], name="held out (actual)", line=dict(color="#2D3436", width=3)),
        go.Scatter(x=tail, y=baseline["naive"], name=f"seasonal naive · MASE {baseline['mase_naive']:.2f}",
                   line=dict(color=plots.PALETTE[2], dash="dash"))])
    if latest is not None:
        fig.add_trace(go.Scatter(x=tail, y=latest["forecast"], name=f"{events[0]['cell']} at step {latest['step']} · "
                                 f"MASE {latest['mase']:.2f}", line=dict(color=plots.ACCENT, width=3)))
    if series.dates is not None:
        fig.update_xaxes(title="date")
    else:
        fig.update_xaxes(title="time step", **plots.integer_ticks(x[start:]))
    fig.update_yaxes(title=series.value_column)
    fig.update_layout(legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))
    return plots.tidy(fig, 400, f"{series.value_column}: the last {horizon} values held out and forecast", legend=True)
