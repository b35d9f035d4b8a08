"""A small convolutional network for Fashion-MNIST (LeCun et al. 1998; batch norm: Ioffe &
Szegedy 2015). Two stages of two 3x3 convolutions, each stage halving the resolution, then
a two-layer classifier head. Normalisation lives inside, so the checkpoint is self-contained.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION_MEAN, FASHION_STD = 0.2860, 0.3530


@dataclass
class CNNConfig:
    channels: tuple[int, int] = (32, 64)
    """width of the two conv stages"""
    hidden: int = 256
    """units in the dense layer before the classifier"""
    dropout: float = 0.3
    n_classes: int = 10


def conv_bn_relu(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class FashionCNN(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> (N, n_classes) logits."""

    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        self.register_buffer("mean", torch.tensor(FASHION_MEAN))
        self.register_buffer("std", torch.tensor(FASHION_STD))
        self.convs = nn.ModuleList([conv_bn_relu(1, c1), conv_bn_relu(c1, c1),
                                    conv_bn_relu(c1, c2), conv_bn_relu(c2, c2)])
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(config.dropout),
            nn.Linear(c2 * 7 * 7, config.hidden), nn.BatchNorm1d(config.hidden), nn.ReLU(),
            nn.Dropout(config.dropout), nn.Linear(config.hidden, config.n_classes))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of each conv layer: [(N, c1, 28, 28), (N, c1, 28, 28), (N, c2, 14, 14), (N, c2, 14, 14)]."""
        h = (x - self.mean) / self.std
        maps = []
        for i, conv in enumerate(self.convs):
            h = conv(h)
            maps.append(h)
            if i % 2 == 1:
                h = self.pool(h)
        return maps

    def head_from_map(self, last_map: torch.Tensor) -> torch.Tensor:
        """Logits from the last conv layer's output (what Grad-CAM differentiates)."""
        return self.head(self.pool(last_map))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (N, hidden): the space FID is measured in."""
        return self.head[:-2](self.pool(self.feature_maps(x)[-1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head[-2:](self.features(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
        return F.cross_entropy(self(x), y, label_smoothing=label_smoothing)
