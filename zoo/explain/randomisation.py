"""The model-randomisation sanity check of Adebayo et al. 2018 ("Sanity Checks for Saliency Maps"): draw the
map again after the top layer's learned weights are replaced by random ones. A map that stays the same does
not depend on what the model learned (it may be an edge detector of the image), so it explains nothing.

The weights are changed on a copy; the model itself, which sessions may share, is never touched."""
from __future__ import annotations

import copy

import numpy as np
import torch

RANDOM_SEED = 0
"""the seed of the random top layer, so that a rerun draws the same maps"""


def top_layer(model: torch.nn.Module) -> torch.nn.Linear:
    """The last linear layer the model registers: the classifier that reads the features out as logits."""
    linear = [module for module in model.modules() if isinstance(module, torch.nn.Linear)]
    if not linear:
        raise ValueError(f"{type(model).__name__} has no linear layer to randomise.")
    return linear[-1]


def with_random_top_layer(model: torch.nn.Module, seed: int = RANDOM_SEED) -> torch.nn.Module:
    """A copy of the model whose top layer is freshly initialised (PyTorch's default draw), all else as learned."""
    randomised = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        top_layer(randomised).reset_parameters()
    return randomised


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing the mean of their ranks."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends - 1) / 2, ends - starts)
    return ranks


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation of two maps' magnitudes (the stricter of Adebayo et al.'s two comparisons: a
    map whose signs flip but whose shape stays has not changed); NaN when either map is flat (all one value)."""
    a, b = (_ranks(np.abs(np.asarray(m, dtype=np.float64)).ravel()) for m in (first, second))
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])
