"""Which shipped checkpoints the explanations apply to: every Fashion-MNIST image classifier of the zoo, found
by its recipe in the checkpoint registry, and every checkpoint whose recipe builds one on its model (the
self-supervised encoder with a linear probe)."""
from __future__ import annotations

from typing import Any

import torch

from zoo import checkpoints
from zoo.i18n import t
from zoo.training.image_classifier import ImageClassifierRecipe


def _builds_classifier(recipe: Any) -> bool:
    return callable(getattr(recipe, "image_classifier", None))


def image_classifiers() -> dict[str, str]:
    """{checkpoint name: title in the reader's language} of every checkpoint that is, or offers, a float
    (N, 1, 28, 28) -> logits classifier."""
    return {name: checkpoints.title(name) for name, recipe in sorted(checkpoints.registry().items())
            if isinstance(recipe, ImageClassifierRecipe) or _builds_classifier(recipe)}


def as_classifier(name: str, model: torch.nn.Module) -> torch.nn.Module:
    """The classifier to explain for checkpoint NAME's loaded model: the model itself, or what its recipe's
    `image_classifier(model)` builds on it (which may take a while: the page keeps it once per server)."""
    recipe = checkpoints.recipe(name)
    return recipe.image_classifier(model) if _builds_classifier(recipe) else model


def summary(classifier: torch.nn.Module, card: dict[str, Any]) -> str:
    """One sentence on what is explained and how well it classifies: the classifier's own `summary` where it
    has one (a probe says what it was fitted on), else the card's test accuracy."""
    own = getattr(classifier, "summary", "")
    if own:
        return own
    metrics = card["metrics"]
    return t("explain.summary", title=card["title"], parameters=card["parameters"], accuracy=metrics["accuracy"],
             n=metrics["n"])
