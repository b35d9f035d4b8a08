"""The Explain page's figures: every method's map on one colour scale, the deletion and insertion curves, the
maps before and after the randomisation check, and the perturbation that flips a prediction."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from zoo import plots
from zoo.explain.attributions import Attribution
from zoo.explain.comparison import Measured
from zoo.i18n import t

EVIDENCE_SCALE = "RdBu_r"
"""red for the class, blue against it, white for nothing"""
MAP_CELL_PX = 170


def _with_colour_bar(fig: go.Figure, title: str) -> go.Figure:
    """One colour bar for a grid whose cells share one scale."""
    fig.data[0].update(showscale=True, colorbar=dict(title=dict(text=title, side="right"), thickness=12, len=0.9))
    return fig


def attribution_maps(methods: Sequence[Measured], class_name: str, cols: int = 4) -> go.Figure:
    """Each method's map divided by its largest magnitude, all on one scale from -1 to 1."""
    maps = np.stack([m.attribution.scaled() for m in methods])
    fig = plots.image_grid(maps, title=t("explain.figure.maps_title", class_name=class_name),
                           titles=[m.attribution.title for m in methods], cols=cols, height_per_row=MAP_CELL_PX,
                           symmetric=True, zrange=(-1, 1))
    return _with_colour_bar(fig, t("explain.figure.map_scale"))


def evidence_overlay(pixels: np.ndarray, attribution: Attribution, height: int = 300) -> go.Figure:
    """One method's map, on the scale every method shares, laid over the greyscale image."""
    fig = plots.image(pixels, t("explain.figure.overlay_title", method=attribution.title), height)
    evidence = t("explain.figure.evidence")
    fig.add_trace(go.Heatmap(z=attribution.scaled(), colorscale=EVIDENCE_SCALE, zmin=-1, zmax=1, opacity=0.6,
                             colorbar=dict(title=dict(text=evidence, side="right"), thickness=12),
                             hovertemplate=f"{evidence} %{{z:+.2f}}<extra></extra>"))
    return fig


def faithfulness_curves(methods: Sequence[Measured], class_name: str, kind: str) -> go.Figure:
    """The class's probability as pixels are removed (`kind` "deletion") or revealed ("insertion") in each map's
    order, with each curve's area in its legend."""
    removing = kind == "deletion"
    series = {t("explain.figure.curve", method=m.attribution.title,
                area=m.curves.deletion_area if removing else m.curves.insertion_area):
              m.curves.deletion if removing else m.curves.insertion for m in methods}
    fig = plots.lines(methods[0].curves.shares, series, kind=plots.PROBABILITY,
                      title=t(f"explain.figure.{kind}_title"), x_title=t(f"explain.figure.{kind}_x"),
                      y_title=t("explain.figure.probability_of", class_name=class_name),
                      height=240 + plots.LEGEND_ROW_PX * len(series))
    return fig.update_xaxes(**plots.PROBABILITY_AXIS)


def randomisation_maps(methods: Sequence[Measured]) -> go.Figure:
    """Each method's map as learned beside its map with the top layer random, each pair on its own scale, with
    the rank correlation of the two."""
    maps, titles = [], []
    for m in methods:
        largest = max(float(np.abs(m.attribution.values).max()), float(np.abs(m.randomised).max())) or 1.0
        maps += [m.attribution.values / largest, m.randomised / largest]
        verdict = t("explain.figure.blank") if math.isnan(m.correlation) else t("explain.figure.rho", rho=m.correlation)
        titles += [t("explain.figure.learned", method=m.attribution.title), t("explain.figure.random", verdict=verdict)]
    fig = plots.image_grid(np.stack(maps), title=t("explain.figure.randomised_title"),
                           titles=titles, cols=4, height_per_row=MAP_CELL_PX, symmetric=True, zrange=(-1, 1))
    return _with_colour_bar(fig, t("explain.figure.pair_scale"))


def perturbation(change: np.ndarray, epsilon: float, title: str, height: int = 260) -> go.Figure:
    """How much the attack moved each pixel, from -epsilon (darker) to +epsilon (lighter)."""
    fig = plots.image(change, title, height)
    fig.update_traces(colorscale=EVIDENCE_SCALE, zmin=-epsilon, zmax=epsilon, showscale=True,
                      colorbar=dict(title=dict(text=t("explain.figure.pixel_change"), side="right"), thickness=12),
                      hovertemplate=t("explain.figure.pixel_hover"))
    return fig
