"""The toy game's live figure: D's verdict over the plane with the real points, G's samples, G's
gradient and the modes. Redrawn and sent whole twice a second, so it is one constructor call with
zoo.plots' empty template and small arrays: float32 points, D's verdict in whole percent (uint8),
half of the real points (38 KB a frame before, 16 KB after)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from zoo.i18n import t
from zoo.plots import ACCENT, LEGEND_MARGIN, PLAIN_TEMPLATE, SECOND, TITLE_MARGIN, tint, title_layout


def toy_game_frame(frame: dict, real: np.ndarray, centres: np.ndarray, bounds: tuple[float, float, float, float],
                   height: int = 480, real_shown: int = 500) -> go.Figure:
    """A toy GAN's frame: D's probability of "real" over the plane (green real, purple fake), the first
    `real_shown` real points (a random sample: enough to see the shape), G's samples, arrows where
    G's loss pushes the first samples (scaled so the longest is a tenth of the plane), and the
    target's modes (a dark ring when covered, a red one when missed)."""
    percent = np.round(100 * frame["surface"].astype(np.float32)).astype(np.uint8)
    size, side = percent.shape[0], bounds[1] - bounds[0]
    fake, push = frame["fake"].astype(np.float32), frame["push"].astype(np.float32)
    tips = fake[:len(push)] + push * (0.1 * side / max(float(np.linalg.norm(push, axis=1).max()), 1e-12))
    segments = np.full((3 * len(push), 2), np.nan, dtype=np.float32)
    segments[0::3], segments[1::3] = fake[:len(push)], tips
    heads = np.tile(np.array([0, 9, 0], dtype=np.uint8), len(push))
    covered = frame["mode_covered"]
    real = real[:real_shown].astype(np.float32)
    axis_points = lambda low, high: np.linspace(low, high, size, dtype=np.float32)
    traces = [
        go.Heatmap(x=axis_points(*bounds[:2]), y=axis_points(*bounds[2:]), z=percent,
                   zmin=0, zmax=100, colorscale=[[0, tint(ACCENT, 0.45)], [0.5, "white"], [1, tint(SECOND, 0.45)]],
                   colorbar=dict(title=t("gan.plane.colorbar"), thickness=10, len=0.8, ticksuffix="%"),
                   hovertemplate=t("gan.plane.hover")),
        go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name=t("gan.plane.real"), hoverinfo="skip",
                   marker=dict(color=SECOND, size=4, opacity=0.6)),
        go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name=t("gan.plane.generated"), hoverinfo="skip",
                   marker=dict(color=ACCENT, size=4, opacity=0.8)),
        go.Scatter(x=segments[:, 0], y=segments[:, 1], mode="lines+markers", name=t("gan.plane.gradient"), hoverinfo="skip",
                   line=dict(color="#2D3436", width=1.2),
                   marker=dict(symbol="arrow", angleref="previous", size=heads, color="#2D3436")),
        go.Scatter(x=centres[:, 0], y=centres[:, 1], mode="markers", name=t("gan.plane.modes"),
                   customdata=np.round(100 * frame["mode_shares"]).astype(np.uint8),
                   hovertemplate=t("gan.plane.mode_hover"),
                   marker=dict(symbol="circle-open", size=22, line=dict(width=2.5),
                               color=["#2D3436" if c else "#D63031" for c in covered]))]
    axis = dict(showgrid=False, zeroline=False, constrain="domain")
    return go.Figure(traces, layout=dict(
        height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN + LEGEND_MARGIN, b=10), template=PLAIN_TEMPLATE,
        plot_bgcolor="white", title=title_layout(t("gan.plane.title", step=frame["step"])),
        xaxis=dict(range=bounds[:2], title="x₁", **axis), yaxis=dict(range=bounds[2:], scaleanchor="x", title="x₂", **axis),
        legend=dict(orientation="h", y=1.01, yanchor="bottom", x=0, font_size=11)))


def score_histograms(real: np.ndarray, generated: np.ndarray, yours: float, class_name: str,
                     height: int = 300) -> go.Figure:
    """D's probability of "real" for real test images and for G's samples of one class, as two histograms
    (percent of each set), and a line at the person's image."""
    bins = dict(start=0.0, end=1.0, size=0.025)
    fig = go.Figure([go.Histogram(x=scores, name=name, xbins=bins, histnorm="percent", opacity=0.6,
                                  marker_color=color, hovertemplate=t("gan.histogram.hover"))
                     for scores, name, color in ((real, t("gan.histogram.real", n=len(real)), SECOND),
                                                 (generated, t("gan.histogram.generated", n=len(generated)), ACCENT))])
    fig.add_vline(x=yours, line=dict(color="#2D3436", width=3), annotation_text=t("gan.histogram.yours"),
                  annotation_position="top")
    fig.update_layout(barmode="overlay", legend=dict(orientation="h", y=1.02, yanchor="bottom"),
                      margin=dict(l=10, r=10, t=70, b=10), height=height,
                      title=dict(text=t("gan.histogram.title", name=class_name), y=0.98, yanchor="top"))
    fig.update_xaxes(title=t("gan.histogram.x"), range=[0, 1],
                     tickformat=".0%")
    fig.update_yaxes(title=t("gan.histogram.y"))
    return fig
