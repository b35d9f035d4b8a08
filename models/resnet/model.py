"""A CIFAR-style residual network for Fashion-MNIST (He et al. 2016, "Deep Residual Learning
for Image Recognition", section 4.2). A 3x3 stem, three stages of basic blocks at 28, 14 and
7 pixels with widths (w, 2w, 4w), global average pooling and a linear classifier.

`residual=False` builds the plain network of the same depth (the same blocks with no
shortcut), the comparison the paper uses to show that residuals make depth trainable.
Normalisation lives inside, so the checkpoint is self-contained.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION_MEAN, FASHION_STD = 0.2860, 0.3530


@dataclass
class ResNetConfig:
    width: int = 16
    """channels of the first stage; the next two stages have 2x and 4x"""
    blocks: tuple[int, int, int] = (3, 3, 3)
    """basic blocks per stage; depth = 2 * sum(blocks) + 2 (ResNet-20 is (3, 3, 3))"""
    residual: bool = True
    """False builds the plain network of the same depth: no shortcuts at all"""
    batch_norm: bool = True
    """False drops every batch norm (then a deep plain net's gradients vanish: the residual demo)"""
    n_classes: int = 10

    @property
    def depth(self) -> int:
        """Weighted layers: the stem, two convolutions per block, the classifier."""
        return 2 * sum(self.blocks) + 2


def conv_norm(c_in: int, c_out: int, kernel: int, stride: int, batch_norm: bool) -> tuple[nn.Conv2d, nn.Module]:
    """A convolution (with a bias only when no batch norm follows) and its batch norm or identity."""
    conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=not batch_norm)
    return conv, nn.BatchNorm2d(c_out) if batch_norm else nn.Identity()


class BasicBlock(nn.Module):
    """Two 3x3 conv + batch norm; adds the input back (a 1x1 stride-2 conv where the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int, residual: bool, batch_norm: bool = True):
        super().__init__()
        self.conv1, self.bn1 = conv_norm(c_in, c_out, 3, stride, batch_norm)
        self.conv2, self.bn2 = conv_norm(c_out, c_out, 3, 1, batch_norm)
        self.residual = residual
        self.shortcut = None
        if residual and (stride != 1 or c_in != c_out):
            self.shortcut = nn.Sequential(*conv_norm(c_in, c_out, 1, stride, batch_norm))
        if residual and batch_norm:
            # each block starts as the identity, so a deep net starts as a shallow one (Goyal et al. 2017)
            nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        if self.residual:
            h = h + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(h)


class ResNet(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> (N, n_classes) logits."""

    def __init__(self, config: ResNetConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.register_buffer("mean", torch.tensor(FASHION_MEAN))
        self.register_buffer("std", torch.tensor(FASHION_STD))
        self.stem = nn.Sequential(*conv_norm(1, w, 3, 1, config.batch_norm), nn.ReLU())
        stages, c_in = [], w
        for i, n_blocks in enumerate(config.blocks):
            c_out = w * 2 ** i
            stages.append(nn.Sequential(*[
                BasicBlock(c_in if b == 0 else c_out, c_out, 2 if (i > 0 and b == 0) else 1,
                           config.residual, config.batch_norm)
                for b in range(n_blocks)]))
            c_in = c_out
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(c_in, config.n_classes)

    def conv_layers(self) -> list[nn.Conv2d]:
        """The 3x3 convolutions in depth order (stem first), whose gradients the residual demo plots."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of each stage: [(N, w, 28, 28), (N, 2w, 14, 14), (N, 4w, 7, 7)]."""
        h = self.stem((x - self.mean) / self.std)
        maps = []
        for stage in self.stages:
            h = stage(h)
            maps.append(h)
        return maps

    def head_from_map(self, last_map: torch.Tensor) -> torch.Tensor:
        """Logits from the last stage's output (what Grad-CAM differentiates)."""
        return self.fc(last_map.mean(dim=(2, 3)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The globally pooled last stage (N, 4w): the space a new head is trained on."""
        return self.feature_maps(x)[-1].mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
        return F.cross_entropy(self(x), y, label_smoothing=label_smoothing)
