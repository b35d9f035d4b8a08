"""The diffusion page's own figure: the noise schedule's signal-to-noise ratio (the animation and
the trade-off chart it also draws are shared, in zoo.plots)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from zoo import i18n
from zoo.i18n import t
from zoo.plots import ACCENT, SECOND, integer_ticks, tidy


def signal_to_noise(snr: np.ndarray, marked: int, height: int = 280) -> go.Figure:
    """A noise schedule's signal-to-noise ratio against the step on a log scale, a dot at step `marked`."""
    hover = t("diffusion.snr.hover")
    fig = go.Figure([go.Scatter(x=np.arange(len(snr)), y=snr, mode="lines", line=dict(color=ACCENT), hovertemplate=hover),
                     go.Scatter(x=[marked], y=[snr[marked]], mode="markers", marker=dict(size=11, color=SECOND),
                                hovertemplate=hover)])
    fig.update_xaxes(title=t("diffusion.snr.x"), **integer_ticks([0, len(snr) - 1]))
    fig.update_yaxes(title=t("diffusion.snr.y"), type="log", exponentformat="power")
    fig.update_layout(showlegend=False)
    return tidy(fig, height, t("diffusion.snr.title"))


def steps_tradeoff(step_counts: list[int], fid: list[float], timings: dict[str, list[float]],
                   height: int = 380) -> go.Figure:
    """FID (left axis) and milliseconds per image on each device named in `timings` (right axis, log scale with
    a tick at every power of ten, dotted) against the number of DDIM steps: quality levels off, time grows."""
    traces = [go.Scatter(x=step_counts, y=fid, mode="lines+markers", name=t("diffusion.tradeoff.fid"),
                         line=dict(color=ACCENT), hovertemplate=t("diffusion.tradeoff.fid_hover"))]
    for (device, seconds), color in zip(timings.items(), (SECOND, "#E17055", "#0984E3")):
        traces.append(go.Scatter(x=step_counts, y=[1000 * s for s in seconds], mode="lines+markers", yaxis="y2",
                                 name=t("diffusion.tradeoff.ms", device=device), line=dict(color=color, dash="dot"),
                                 hovertemplate=t("diffusion.tradeoff.ms_hover")))
    milliseconds = [1000 * s for seconds in timings.values() for s in seconds]
    low, high = np.floor(np.log10(min(milliseconds))), np.ceil(np.log10(max(milliseconds)))
    decades = [10.0 ** p for p in range(int(low), int(high) + 1)]
    fig = go.Figure(traces)
    fig.update_layout(
        xaxis=dict(title=t("diffusion.tradeoff.x"), type="log", tickvals=step_counts),
        yaxis=dict(title=t("diffusion.tradeoff.fid"), rangemode="tozero"),
        yaxis2=dict(title=t("diffusion.tradeoff.y2"), type="log", overlaying="y", side="right",
                    showgrid=False, range=[low, high], tickvals=decades, ticktext=[i18n.number(d, "g") for d in decades]),
        legend=dict(orientation="h", y=-0.25, yanchor="top", x=0))
    tidy(fig, height, t("diffusion.tradeoff.title"))
    fig.update_layout(margin=dict(b=80))
    return fig
