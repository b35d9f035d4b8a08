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


def _characters_on_x(fig: go.Figure, chars: str) -> go.Figure:
    return fig.update_xaxes(tickvals=list(range(len(chars))), ticktext=[shown(ch) for ch in chars], tickangle=0,
                            tickfont=dict(size=9, family="monospace"))


def char_heatmap(z: np.ndarray, chars: str, units: np.ndarray, title: str, signed: bool) -> go.Figure:
    """Units (rows) against the characters read (columns)."""
    limit = float(np.abs(z).max()) or 1.0
    fig = plots.heatmap(z, range(len(chars)), [f"unit {u}" for u in units], title=title,
                        zmin=-limit if signed else 0, zmax=limit if signed else 1, height=60 + 9 * len(units))
    fig.update_traces(colorscale="RdBu_r" if signed else plots.HEAT, customdata=np.tile([shown(ch) for ch in chars],
                                                                                        (len(units), 1)),
                      hovertemplate="%{y} after '%{customdata}': %{z:.2f}<extra></extra>")
    _characters_on_x(fig, chars)
    fig.update_yaxes(showticklabels=False)
    return fig


def gate_means(gates: dict[str, np.ndarray], chars: str) -> go.Figure:
    """Each gate's mean over the units (rows of its (units, characters) array) after each character."""
    return _characters_on_x(plots.lines(range(len(chars)), {name: g.mean(0) for name, g in gates.items()},
                                        x_title="character", y_title="mean over units", height=240), chars)


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
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=10, b=10), yaxis_title=series.value_column,
                      legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return fig
