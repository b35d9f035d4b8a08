"""Whether a map points at the pixels the model really uses: the deletion and insertion curves of Petsiuk et al.
2018 ("RISE"). Pixels are blacked out (deletion) or revealed on a black image (insertion) in the order the map
ranks them, and the class's probability is read after each share; black is what Fashion-MNIST's background is.
A faithful map makes the probability fall fast under deletion (a small area under the curve) and rise fast
under insertion (a large one)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from zoo.explain.attributions import class_probabilities

SHARES = 20
"""the curves are read after 0, 1/SHARES, ..., all of the pixels"""


@dataclass(frozen=True)
class Curves:
    """The class's probability as ever more of the ranked pixels are removed or revealed."""
    shares: np.ndarray
    """(K + 1,) shares of the pixels, 0 to 1"""
    deletion: np.ndarray
    """(K + 1,) the probability with the top share of pixels blacked out"""
    insertion: np.ndarray
    """(K + 1,) the probability with only the top share of pixels shown"""

    @property
    def deletion_area(self) -> float:
        """Lower is more faithful."""
        return float(np.trapezoid(self.deletion, self.shares))

    @property
    def insertion_area(self) -> float:
        """Higher is more faithful."""
        return float(np.trapezoid(self.insertion, self.shares))

    @property
    def score(self) -> float:
        """Insertion's area minus deletion's: one number to rank maps by, higher is more faithful."""
        return self.insertion_area - self.deletion_area


def ranking(values: np.ndarray, seed: int = 0) -> np.ndarray:
    """The pixels' flat indices, the strongest evidence for the class first; equal values in a random order
    (seeded), so that a flat region is not removed top row first."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    tie_breaker = np.random.default_rng(seed).random(flat.size)
    return np.lexsort((tie_breaker, -flat))


def deletion_insertion(model: torch.nn.Module, image: torch.Tensor, target: int, values: np.ndarray,
                       shares: int = SHARES) -> Curves:
    """Both curves of the map `values` (28, 28) for float `image` (1, 1, 28, 28) and class `target`, read in
    one batch of 2 x (shares + 1) images."""
    order = torch.from_numpy(ranking(values))
    fractions = np.linspace(0, 1, shares + 1)
    kept = torch.zeros(shares + 1, image[0].numel())
    for k, fraction in enumerate(fractions):
        kept[k, order[:round(fraction * order.numel())]] = 1
    kept = kept.view(shares + 1, *image.shape[1:])
    x = image.cpu()
    probabilities = class_probabilities(model, torch.cat([x * (1 - kept), x * kept]), target).numpy()
    return Curves(fractions, probabilities[:shares + 1], probabilities[shares + 1:])
