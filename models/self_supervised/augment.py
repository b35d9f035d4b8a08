"""The augmentations that define "the same image" for SimCLR, for 28x28 grey images and in torch ops
on whole batches: a random resized crop with a flip and a small rotation (one affine resampling),
brightness and contrast, a Gaussian blur and an erased rectangle, each image its own draw.

SimCLR's colour jitter becomes brightness and contrast here (there is no colour), and its crop is
milder (Fashion-MNIST garments fill the frame: a crop of 10% of the area often shows no garment).
Every random number is drawn on the CPU, from `generator` or torch's global generator, so a run
resumed from a saved random state sees the same views on any device.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class AugmentStrengths:
    crop_scale: float = 0.4
    """the smallest share of the image's area a crop keeps (1: no cropping)"""
    flip: float = 0.5
    """the chance of a left-right mirror"""
    rotation: float = 15.0
    """the largest rotation, in degrees either way"""
    brightness: float = 0.4
    """brightness is multiplied by a factor in [1 - this, 1 + this]"""
    contrast: float = 0.4
    """contrast around the image's mean is scaled by a factor in [1 - this, 1 + this]"""
    blur: float = 0.3
    """the chance of a Gaussian blur (sigma 0.1 to 1 pixel)"""
    erase: float = 0.25
    """the chance of erasing a rectangle of 2% to 20% of the image"""


def augment(x: torch.Tensor, strengths: AugmentStrengths = AugmentStrengths(),
            generator: torch.Generator | None = None) -> torch.Tensor:
    """One random view of each image in x (N, 1, H, W) in [0, 1]: same shape, values in [0, 1]."""
    n = len(x)
    rand = lambda *shape: torch.rand(*shape, generator=generator).to(x.device)
    x = resized_crop_flip_rotate(x, strengths, rand)
    x = x * (1 + strengths.brightness * (2 * rand(n, 1, 1, 1) - 1))
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * (1 + strengths.contrast * (2 * rand(n, 1, 1, 1) - 1)) + mean).clamp(0, 1)
    x = torch.where(rand(n, 1, 1, 1) < strengths.blur, gaussian_blur(x, 0.1 + 0.9 * rand(n)), x)
    return torch.where(rand(n, 1, 1, 1) < strengths.erase, x * (1 - erase_masks(x, rand)), x)


def two_views(x: torch.Tensor, strengths: AugmentStrengths = AugmentStrengths(),
              generator: torch.Generator | None = None) -> torch.Tensor:
    """(2N, 1, H, W): two independent views of each image, rows i and N + i of one image (what the loss takes)."""
    return torch.cat([augment(x, strengths, generator), augment(x, strengths, generator)])


def resized_crop_flip_rotate(x: torch.Tensor, strengths: AugmentStrengths, rand) -> torch.Tensor:
    """Crop a random box (area share in [crop_scale, 1], aspect up to 4/3 either way, less for larger boxes so that
    the whole image is a square box) turned by a small angle, mirror it by chance, and resample it to the full size:
    one affine grid per image, bilinear, black outside."""
    n = len(x)
    area = strengths.crop_scale + (1 - strengths.crop_scale) * rand(n)
    aspect = torch.exp((1 - area) * math.log(4 / 3) * (2 * rand(n) - 1))
    width, height = (area * aspect).sqrt().clamp(max=1), (area / aspect).sqrt().clamp(max=1)
    centre_x, centre_y = (1 - width) * (2 * rand(n) - 1), (1 - height) * (2 * rand(n) - 1)
    angle = torch.deg2rad(strengths.rotation * (2 * rand(n) - 1))
    mirror = torch.where(rand(n) < strengths.flip, -1.0, 1.0).to(x.device)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack([torch.stack([width * cos * mirror, -width * sin, centre_x], 1),
                         torch.stack([height * sin * mirror, height * cos, centre_y], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, radius: int = 2) -> torch.Tensor:
    """Each image blurred by its own sigma (N,): a separable 5-tap Gaussian, reflecting at the edges."""
    n, c, h, w = x.shape
    taps = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-taps[None, :] ** 2 / (2 * sigma[:, None].to(x.dtype) ** 2))
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (N*C, 5)
    h_ = F.pad(x.reshape(1, n * c, h, w), (radius, radius, radius, radius), mode="reflect")
    h_ = F.conv2d(h_, kernel[:, None, None, :], groups=n * c)
    h_ = F.conv2d(h_, kernel[:, None, :, None], groups=n * c)
    return h_.reshape(n, c, h, w)


def erase_masks(x: torch.Tensor, rand) -> torch.Tensor:
    """(N, 1, H, W) masks of one random rectangle each (2% to 20% of the area, aspect 1/3 to 3)."""
    n, _, h, w = x.shape
    area = 0.02 + 0.18 * rand(n)
    aspect = torch.exp(math.log(1 / 3) + math.log(9) * rand(n))
    box_h = (area * aspect).sqrt().mul(h).round().clamp(1, h)
    box_w = (area / aspect).sqrt().mul(w).round().clamp(1, w)
    top, left = ((h - box_h + 1) * rand(n)).floor(), ((w - box_w + 1) * rand(n)).floor()
    rows = torch.arange(h, device=x.device)[None, :]
    cols = torch.arange(w, device=x.device)[None, :]
    inside_rows = (rows >= top[:, None]) & (rows < (top + box_h)[:, None])    # (N, H)
    inside_cols = (cols >= left[:, None]) & (cols < (left + box_w)[:, None])  # (N, W)
    return (inside_rows[:, :, None] & inside_cols[:, None, :]).to(x.dtype)[:, None]
