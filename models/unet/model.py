"""A U-Net for semantic segmentation (Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional
Networks for Biomedical Image Segmentation"). The encoder applies two 3x3 convolutions and halves
the resolution, `depth` times; the decoder doubles it back with 2x2 up-convolutions. At every
resolution a skip connection concatenates the encoder's map to the decoder's, which hands back
the fine detail pooling threw away; a 1x1 convolution gives each pixel's class logits.

Unlike the paper: padded convolutions (the output is the input's size, nothing is cropped), batch
norm after every convolution, far fewer channels (64x64 scenes, not 572x572 micrographs), and the
loss is cross-entropy plus soft Dice (Milletari et al. 2016) rather than weighted cross-entropy.

Input: float (N, 1, H, W) greyscale in [0, 1], any H and W (padded to a multiple of 2**depth
inside); output: logits (N, n_classes, H, W). Normalisation lives inside, so the checkpoint is
self-contained. `skips` says which skip connections carry their map; a zeroed one shows what the
decoder can do from the coarse path alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

SCENE_MEAN, SCENE_STD = 0.5, 0.25
Skips = bool | Sequence[bool]
"""True keeps every skip connection, False zeroes them all; or one flag per level, full resolution first"""


@dataclass
class UNetConfig:
    in_channels: int = 1
    """greyscale scenes"""
    n_classes: int = 4
    """background, circle, square, triangle"""
    width: int = 16
    """channels at full resolution; every level down doubles them"""
    depth: int = 3
    """times the encoder halves the resolution (64 px down to 8 at the bottom)"""


def double_conv(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by batch norm and ReLU: one U-Net level."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class Trace(NamedTuple):
    """One pass through the network, for looking inside."""
    logits: torch.Tensor
    """(N, n_classes, H, W)"""
    encoder: list[torch.Tensor]
    """each level's output, full resolution first, the bottleneck last: (N, w * 2**i, H / 2**i, W / 2**i)"""
    decoder: list[torch.Tensor]
    """each decoder level's output, coarsest first, ending at full resolution"""


class UNet(nn.Module):
    """(N, 1, H, W) images in [0, 1] -> (N, n_classes, H, W) logits."""

    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = config
        widths = [config.width * 2 ** i for i in range(config.depth + 1)]
        self.register_buffer("mean", torch.tensor(SCENE_MEAN))
        self.register_buffer("std", torch.tensor(SCENE_STD))
        self.encode = nn.ModuleList([double_conv(c_in, c_out) for c_in, c_out in
                                     zip([config.in_channels] + widths[:-1], widths)])
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in reversed(range(config.depth))])
        self.decode = nn.ModuleList([double_conv(2 * widths[i], widths[i]) for i in reversed(range(config.depth))])
        self.head = nn.Conv2d(widths[0], config.n_classes, 1)

    def keep_flags(self, skips: Skips) -> list[bool]:
        """One flag per level (full resolution first): does its skip connection carry its map?"""
        if isinstance(skips, bool):
            return [skips] * self.config.depth
        if len(skips) != self.config.depth:
            raise ValueError(f"skips needs one flag per level ({self.config.depth}), got {len(skips)}")
        return [bool(s) for s in skips]

    def trace(self, x: torch.Tensor, skips: Skips = True) -> Trace:
        """The logits and every level's feature maps on the way, with the skip connections `skips` keeps."""
        keep = self.keep_flags(skips)
        height, width = x.shape[-2:]
        multiple = 2 ** self.config.depth
        pad = (0, -width % multiple, 0, -height % multiple)
        h = F.pad((x - self.mean) / self.std, pad, mode="replicate") if any(pad) else (x - self.mean) / self.std
        encoder = []
        for i, level in enumerate(self.encode):
            h = level(h if i == 0 else self.pool(h))
            encoder.append(h)
        decoder = []
        for up, level, skip, kept in zip(self.up, self.decode, reversed(encoder[:-1]), reversed(keep)):
            h = up(h)  # twice the size, half the channels: those of the encoder map it meets
            h = level(torch.cat([skip if kept else torch.zeros_like(skip), h], dim=1))
            decoder.append(h)
        logits = self.head(h)[..., :height, :width]
        return Trace(logits, encoder, decoder)

    def forward(self, x: torch.Tensor, skips: Skips = True) -> torch.Tensor:
        return self.trace(x, skips).logits

    def loss(self, x: torch.Tensor, masks: torch.Tensor, dice_weight: float = 1.0) -> torch.Tensor:
        """Pixel cross-entropy plus `dice_weight` times the soft Dice loss of the shape classes."""
        logits = self(x)
        return F.cross_entropy(logits, masks) + dice_weight * soft_dice_loss(logits, masks)

    @torch.no_grad()
    def segment(self, x: torch.Tensor, skips: Skips = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Each pixel's most likely class (N, H, W) and that class's probability, the confidence."""
        confidence, labels = F.softmax(self(x, skips).float(), dim=1).max(dim=1)
        return labels, confidence


def soft_dice_loss(logits: torch.Tensor, masks: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 - the mean soft Dice of classes 1.. over the batch: probabilities stand in for the
    predicted pixels, so the overlap the metric counts becomes differentiable."""
    probs = F.softmax(logits.float(), dim=1)[:, 1:]
    target = F.one_hot(masks, logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].float()
    overlap = (probs * target).sum(dim=(0, 2, 3))
    dice = (2 * overlap + eps) / (probs.sum(dim=(0, 2, 3)) + target.sum(dim=(0, 2, 3)) + eps)
    return 1 - dice.mean()
