"""Every attribution method on one image, each measured: how faithful its map is (deletion and insertion), and
whether it survives the randomisation of the model's top layer. What the Explain page, the CNN page's "why"
section and the benchmark compute."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from zoo.explain.attributions import Attribution, Options, attribute_all, class_logits
from zoo.explain.faithfulness import Curves, deletion_insertion
from zoo.explain.randomisation import rank_correlation, with_random_top_layer
from zoo.i18n import t


@dataclass(frozen=True)
class Measured:
    """One method's map, its deletion and insertion curves, and (when checked) its map after randomisation."""
    attribution: Attribution
    curves: Curves
    randomised: np.ndarray | None = None
    """(28, 28) the same method's map once the top layer is random"""
    correlation: float | None = None
    """Spearman's rank correlation of the two maps' magnitudes (NaN when either is flat)"""


@dataclass(frozen=True)
class Comparison:
    """All methods on one image and class."""
    probabilities: np.ndarray
    """(C,) the model's class probabilities for the image"""
    target: int
    """the class explained: the likeliest one"""
    methods: list[Measured]

    @property
    def most_faithful(self) -> Measured:
        """The method whose map has the largest insertion area minus deletion area on this image."""
        return max(self.methods, key=lambda m: m.curves.score)


def as_image(pixels: np.ndarray) -> torch.Tensor:
    """A (28, 28) array in [0, 1] as the float (1, 1, 28, 28) tensor the classifiers take."""
    return torch.as_tensor(np.asarray(pixels, dtype=np.float32)).view(1, 1, *np.shape(pixels))


def compare_methods(model: torch.nn.Module, pixels: np.ndarray, options: Options = Options(),
                    sanity_check: bool = True) -> Comparison:
    """Explain the likeliest class of `pixels` (28, 28) in [0, 1] by every method that applies to `model`,
    with each map's deletion and insertion curves, and, if `sanity_check`, each map again on a copy of the
    model with a random top layer and the rank correlation of the two."""
    image = as_image(pixels)
    probabilities = F.softmax(class_logits(model, image), dim=1)[0].numpy()
    target = int(probabilities.argmax())
    found = attribute_all(model, image, target, options)
    after = {}
    if sanity_check:
        after = {a.method: a.values for a in attribute_all(with_random_top_layer(model), image, target, options)}
    measured = []
    for attribution in found:
        randomised = after.get(attribution.method)
        measured.append(Measured(attribution, deletion_insertion(model, image, target, attribution.values), randomised,
                                 None if randomised is None else rank_correlation(attribution.values, randomised)))
    return Comparison(probabilities, target, measured)


def describe_correlation(correlation: float) -> str:
    """The sanity check's verdict on one map, in a few words of the reader's language."""
    if math.isnan(correlation):
        return t("explain.verdict.blank")
    if correlation >= 0.7:
        return t("explain.verdict.unchanged")
    if correlation >= 0.4:
        return t("explain.verdict.partly")
    return t("explain.verdict.changed")
