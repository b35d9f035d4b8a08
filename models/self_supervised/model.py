"""SimCLR (Chen et al. 2020, "A Simple Framework for Contrastive Learning of Visual Representations"):
a small conv encoder learns features without labels by pulling together two augmented views of one
image and pushing apart the views of every other image in the batch (the NT-Xent loss).

The encoder's pooled output is the representation that kNN and linear probes read; the projection
head maps it to the space the loss works in and is dropped after training, as in the paper.
Normalisation lives inside, so a checkpoint takes images in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION_MEAN, FASHION_STD = 0.2860, 0.3530


@dataclass
class SimCLRConfig:
    channels: tuple[int, int, int] = (32, 64, 128)
    """width of the three conv stages (28x28, 14x14, 7x7); the last is the feature size"""
    projection_hidden: int = 512
    """units in the projection head's hidden layer"""
    projection_dim: int = 128
    """size of the space the contrastive loss compares views in"""
    temperature: float = 0.2
    """NT-Xent's softmax temperature: lower weighs the hardest negatives more"""


def conv_bn_relu(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class ConvEncoder(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> (N, channels[-1]) features: three stages of two 3x3
    convolutions, max-pooled between stages, then a global average pool."""

    def __init__(self, channels: tuple[int, int, int]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(FASHION_MEAN))
        self.register_buffer("std", torch.tensor(FASHION_STD))
        c1, c2, c3 = channels
        self.stages = nn.ModuleList([
            nn.Sequential(conv_bn_relu(1, c1), conv_bn_relu(c1, c1)),    # (N, c1, 28, 28)
            nn.Sequential(conv_bn_relu(c1, c2), conv_bn_relu(c2, c2)),   # (N, c2, 14, 14)
            nn.Sequential(conv_bn_relu(c2, c3), conv_bn_relu(c3, c3))])  # (N, c3, 7, 7)
        self.out_features = c3

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each stage's output: [(N, c1, 28, 28), (N, c2, 14, 14), (N, c3, 7, 7)]."""
        h, maps = (x - self.mean) / self.std, []
        for i, stage in enumerate(self.stages):
            h = stage(h if i == 0 else F.max_pool2d(h, 2))
            maps.append(h)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_maps(x)[-1].mean(dim=(2, 3))  # (N, c3)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """The normalised temperature-scaled cross-entropy of SimCLR: each of the 2N views must pick its
    partner among the other 2N - 1 by cosine similarity / temperature. z1, z2: (N, D), row i a pair."""
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)      # (2N, D)
    n = len(z1)
    similarity = z @ z.T / temperature                        # (2N, 2N)
    similarity.fill_diagonal_(float("-inf"))                  # a view is not its own partner
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(similarity, partner)


class SimCLR(nn.Module):
    """The encoder (what is kept) and the projection head (what the loss trains through)."""

    def __init__(self, config: SimCLRConfig):
        super().__init__()
        self.config = config
        self.encoder = ConvEncoder(config.channels)
        self.projector = nn.Sequential(
            nn.Linear(self.encoder.out_features, config.projection_hidden, bias=False),
            nn.BatchNorm1d(config.projection_hidden), nn.ReLU(),
            nn.Linear(config.projection_hidden, config.projection_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The representation (N, channels[-1]) of images (N, 1, 28, 28) in [0, 1]."""
        return self.encoder(x)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """The projection head's output (N, projection_dim), where views are compared."""
        return self.projector(self.encoder(x))

    def loss(self, views: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        """NT-Xent of a batch of 2N views: rows i and N + i are two views of one image.
        `temperature` overrides the config's (the page's slider)."""
        z1, z2 = self.project(views).chunk(2)
        return nt_xent(z1, z2, self.config.temperature if temperature is None else temperature)


class SupervisedEncoder(nn.Module):
    """The same encoder architecture with a linear classifier on its features, trained on labels alone: the
    supervised-from-scratch baseline the label-efficiency table compares with."""

    def __init__(self, config: SimCLRConfig, n_classes: int = 10):
        super().__init__()
        self.encoder = ConvEncoder(config.channels)
        self.head = nn.Linear(self.encoder.out_features, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self(x), y)
