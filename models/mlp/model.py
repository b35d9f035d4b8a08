"""Multilayer perceptrons (Rumelhart, Hinton & Williams 1986; dropout: Srivastava et al. 2014).

`FashionMLP` flattens a 28x28 garment and passes it through fully connected layers: every
first-layer unit sees every pixel, so its weights read as a 28x28 template, and nothing in it
knows that neighbouring pixels belong together (the CNN's advantage). `PlaygroundMLP` is the
tiny network of the 2-D playground, with TensorFlow-Playground-style input features.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION_MEAN, FASHION_STD = 0.2860, 0.3530
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


def _activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


@dataclass
class MLPConfig:
    hidden: tuple[int, ...] = (1024, 512, 256)
    """units per hidden layer"""
    activation: str = "relu"
    dropout: float = 0.3
    """after every hidden layer"""
    input_dropout: float = 0.1
    """on the pixels: a cheap regulariser that MLPs on images like"""
    n_classes: int = 10


class FashionMLP(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> (N, n_classes) logits."""

    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.tensor(FASHION_MEAN))
        self.register_buffer("std", torch.tensor(FASHION_STD))
        widths = [28 * 28, *config.hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.act = _activation(config.activation)
        self.input_drop = nn.Dropout(config.input_dropout)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(widths[-1], config.n_classes)

    def hidden_activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each hidden layer's output after its activation: [(N, h1), (N, h2), ...]."""
        h = self.input_drop(((x - self.mean) / self.std).flatten(1))  # (N, 784)
        out = []
        for layer in self.layers:
            h = self.act(layer(h))
            out.append(h)
            h = self.drop(h)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.hidden_activations(x)[-1]))

    def loss(self, x: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
        return F.cross_entropy(self(x), y, label_smoothing=label_smoothing)

    def templates(self) -> torch.Tensor:
        """The first layer's weights as (h1, 28, 28) images: the pattern each unit responds to."""
        return self.layers[0].weight.detach().view(-1, 28, 28)


FEATURES = {
    "x": lambda u, v: u,
    "y": lambda u, v: v,
    "x²": lambda u, v: u * u,
    "y²": lambda u, v: v * v,
    "xy": lambda u, v: u * v,
    "sin x": lambda u, v: torch.sin(u),
    "sin y": lambda u, v: torch.sin(v),
}
"""input features the playground offers, computed from the standardised coordinates"""


@dataclass
class PlaygroundConfig:
    features: tuple[str, ...] = ("x", "y")
    """which of FEATURES feed the first layer"""
    hidden: tuple[int, ...] = (8, 8)
    """units per hidden layer; empty for a linear classifier"""
    activation: str = "tanh"
    n_classes: int = 2
    center: tuple[float, float] = (0.0, 0.0)
    scale: tuple[float, float] = (1.0, 1.0)
    """inputs are standardised as (point - center) / scale, so any CSV's units train alike"""


class PlaygroundMLP(nn.Module):
    """(N, 2) points in the data's own units -> (N, n_classes) logits."""

    def __init__(self, config: PlaygroundConfig):
        super().__init__()
        unknown = set(config.features) - set(FEATURES)
        if unknown or not config.features:
            raise ValueError(f"features must be a non-empty choice of {', '.join(FEATURES)}")
        self.config = config
        self.register_buffer("center", torch.tensor(config.center, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(config.scale, dtype=torch.float32))
        widths = [len(config.features), *config.hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.act = _activation(config.activation)
        self.head = nn.Linear(widths[-1], config.n_classes)

    def inputs(self, points: torch.Tensor) -> torch.Tensor:
        """The chosen features of the standardised points: (N, n_features)."""
        u, v = ((points - self.center) / self.scale).unbind(1)
        return torch.stack([FEATURES[name](u, v) for name in self.config.features], 1)

    def hidden_activations(self, points: torch.Tensor) -> list[torch.Tensor]:
        """Each hidden layer's output: [(N, h1), (N, h2), ...]; empty without hidden layers."""
        h, out = self.inputs(points), []
        for layer in self.layers:
            h = self.act(layer(h))
            out.append(h)
        return out

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        h = self.inputs(points)
        for layer in self.layers:
            h = self.act(layer(h))
        return self.head(h)

    def loss(self, points: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self(points), y)
