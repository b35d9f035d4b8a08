"""The diffusion page's own figure: the noise schedule's signal-to-noise ratio (the animation and
the trade-off chart it also draws are shared, in zoo.plots)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from zoo.plots import ACCENT, SECOND, integer_ticks, tidy


def signal_to_noise(snr: np.ndarray, marked: int, height: int = 280) -> go.Figure:
    """A noise schedule's signal-to-noise ratio against the step on a log scale, a dot at step `marked`."""
    hover = "t = %{x}: SNR %{y:.3g}<extra></extra>"
    fig = go.Figure([go.Scatter(x=np.arange(len(snr)), y=snr, mode="lines", line=dict(color=ACCENT), hovertemplate=hover),
                     go.Scatter(x=[marked], y=[snr[marked]], mode="markers", marker=dict(size=11, color=SECOND),
                                hovertemplate=hover)])
    fig.update_xaxes(title="step t", **integer_ticks([0, len(snr) - 1]))
    fig.update_yaxes(title="signal-to-noise ratio", type="log", exponentformat="power")
    fig.update_layout(showlegend=False)
    return tidy(fig, height, "Signal-to-noise ratio of the noise schedule")
