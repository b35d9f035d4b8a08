"""The batch a layer analysis feeds a checkpoint: a few hundred inputs of its own test data, their classes,
and how they enter the model. Each family's recipe makes its own (`analysis_batch`); plain Fashion-MNIST
image models (the classifiers, the autoencoders, the self-supervised encoder) share the default here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.data.errors import DataNotFoundError
from zoo.i18n import t

BATCH_SIZE = 512
"""inputs per analysis: enough for a map's classes to show, few enough for a few seconds on one CPU"""


@dataclass(frozen=True)
class AnalysisBatch:
    """A small batch of a checkpoint's own data, each input's class, and how the batch enters the model."""
    inputs: tuple[Any, ...]
    """what `call` takes after the model: tensors (moved to the model's device) or plain values"""
    labels: np.ndarray
    """int (N,) the class of each input, which colours the maps"""
    classes: tuple[str, ...]
    """each label's name, in the reader's language"""
    description: str
    """one sentence for the page, in the reader's language: what the inputs are and what colours them"""
    call: str = "__call__"
    """the model's method the inputs go through (the GAN's discriminator is `score`)"""
    sequence: bool = False
    """outputs of rank 3 are (N, T, C) sequences, and an input's vector is its last position's"""


def held_out_images(size: int, seed: int = 0) -> tuple[torch.Tensor, np.ndarray, str]:
    """`size` random Fashion-MNIST test images as float (N, 1, 28, 28) in [0, 1], their labels, and where
    they come from, in the reader's language ("512 Fashion-MNIST test images"); the 100-image sample shipped in
    assets/ when the dataset is not installed."""
    try:
        split, source = fashion_mnist.load("test"), "layers.source.test"
    except DataNotFoundError:
        split, source = fashion_mnist.load_sample(), "layers.source.sample"
    chosen = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:size]
    return split.floats()[chosen], split.labels[chosen].numpy(), t(source, n=len(chosen))


def fashion_images(size: int = BATCH_SIZE, seed: int = 0) -> AnalysisBatch:
    """The default batch: Fashion-MNIST test images through the model's forward, coloured by their class."""
    images, labels, source = held_out_images(size, seed)
    return AnalysisBatch((images,), labels, tuple(fashion_mnist.class_names()),
                         t("layers.fashion_batch", source=source))


def batch_for(name: str, model: torch.nn.Module, size: int = BATCH_SIZE) -> AnalysisBatch:
    """The analysis batch of checkpoint NAME: its recipe's `analysis_batch(model, card, size)` where it has
    one, else the Fashion-MNIST default."""
    recipe = checkpoints.recipe(name)
    if hasattr(recipe, "analysis_batch"):
        return recipe.analysis_batch(model, checkpoints.read_card(name), size)
    return fashion_images(size)


NEXT_CHARACTER_KINDS = ("lowercase letter", "capital letter", "space or line break", "punctuation or digit")
"""what colours a character model's windows: the kind of character that follows each (in English; a reader
sees `next_character_kinds()`)"""


def next_character_kinds() -> tuple[str, ...]:
    """NEXT_CHARACTER_KINDS in the reader's language."""
    return tuple(t(f"layers.next_character.{i}") for i in range(len(NEXT_CHARACTER_KINDS)))


def next_character_kind(ch: str) -> int:
    """The index in NEXT_CHARACTER_KINDS of the kind of `ch`."""
    if ch.isalpha():
        return 1 if ch.isupper() else 0
    return 2 if ch.isspace() else 3


def text_windows(ids: torch.Tensor, chars: str, size: int = BATCH_SIZE, window: int = 32) -> AnalysisBatch:
    """`size` evenly spaced windows of `window` characters of `chars` (encoded as `ids`), read by a character
    model, each coloured by the kind of the character after it: what its last position predicts."""
    starts = np.linspace(0, len(chars) - window - 1, size).astype(np.int64)
    windows = torch.stack([ids[start:start + window] for start in starts])  # (N, window)
    labels = np.array([next_character_kind(chars[start + window]) for start in starts])
    return AnalysisBatch((windows,), labels, next_character_kinds(), t("layers.text_batch", size=size, window=window),
                         sequence=True)
