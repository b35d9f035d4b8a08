"""Generative adversarial networks (Goodfellow et al. 2014): a generator G maps noise to samples,
a discriminator D scores samples as real or generated, and each is trained against the other.

`ToyGAN` plays the game on 2-D points with two small MLPs, small enough to train live and draw
D's decision surface and G's gradient. `DCGAN` (Radford et al. 2016) makes 28x28 garments with
transposed convolutions; it is class-conditional: G gets a learned class embedding beside its
noise, and D scores the image with a projection of that embedding (Miyato & Koyama 2018). D
uses spectral normalisation (Miyato et al. 2018), which keeps the game stable on a small budget.
Both use the non-saturating loss: D minimises softplus(-D(x)) + softplus(D(G(z))), G
minimises softplus(-D(G(z))).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm


class Adversarial(nn.Module):
    """The non-saturating losses on D's scores, which both GANs share."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_scores).mean()


@dataclass
class ToyGANConfig:
    noise_dim: int = 2
    """size of G's input noise"""
    hidden: int = 64
    """units in each of the MLPs' hidden layers"""
    layers: int = 3
    """hidden layers in each MLP"""


def _mlp(n_in: int, n_out: int, hidden: int, layers: int) -> nn.Sequential:
    sizes = [n_in] + [hidden] * layers
    blocks = [m for a, b in zip(sizes, sizes[1:]) for m in (nn.Linear(a, b), nn.LeakyReLU(0.2))]
    return nn.Sequential(*blocks, nn.Linear(sizes[-1], n_out))


class ToyGAN(Adversarial):
    """G: noise (N, noise_dim) -> points (N, 2); D: points (N, 2) -> real-vs-fake logits (N,)."""

    def __init__(self, config: ToyGANConfig):
        super().__init__()
        self.config = config
        self.generator = _mlp(config.noise_dim, 2, config.hidden, config.layers)
        self.discriminator = _mlp(2, 1, config.hidden, config.layers)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.config.noise_dim, generator=generator)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)

    def score(self, points: torch.Tensor) -> torch.Tensor:
        return self.discriminator(points)[:, 0]


@dataclass
class DCGANConfig:
    noise_dim: int = 64
    """size of G's input noise z"""
    width: int = 64
    """channels of the 14x14 stage; the 7x7 stage has twice as many"""
    n_classes: int = 10
    """0 for an unconditional GAN"""
    embed_dim: int = 32
    """size of G's learned class embedding"""


class DCGAN(Adversarial):
    """G: noise (N, noise_dim) and labels (N,) -> images (N, 1, 28, 28) in [0, 1];
    D: images and labels -> real-vs-fake logits (N,)."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        w, conditional = config.width, config.n_classes > 0
        self.class_embed = nn.Embedding(config.n_classes, config.embed_dim) if conditional else None
        g_in = config.noise_dim + (config.embed_dim if conditional else 0)
        self.generator = nn.Sequential(
            nn.Linear(g_in, 2 * w * 49), nn.Unflatten(1, (2 * w, 7, 7)), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(),        # (N, w, 14, 14)
            nn.ConvTranspose2d(w, w // 2, 4, 2, 1), nn.BatchNorm2d(w // 2), nn.ReLU(),  # (N, w/2, 28, 28)
            nn.Conv2d(w // 2, 1, 3, padding=1), nn.Sigmoid())
        self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(1, w, 4, 2, 1)), nn.LeakyReLU(0.2),           # (N, w, 14, 14)
            spectral_norm(nn.Conv2d(w, 2 * w, 4, 2, 1)), nn.LeakyReLU(0.2),       # (N, 2w, 7, 7)
            spectral_norm(nn.Conv2d(2 * w, 2 * w, 3, 1, 1)), nn.LeakyReLU(0.2),
            nn.Flatten())
        self.real_or_fake = spectral_norm(nn.Linear(2 * w * 49, 1))
        self.class_projection = spectral_norm(nn.Embedding(config.n_classes, 2 * w * 49)) if conditional else None

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.config.noise_dim, generator=generator)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images of classes `labels` (N,), or of a blend of classes: float weights (N, n_classes)."""
        if self.class_embed is not None:
            embedding = labels @ self.class_embed.weight if labels.is_floating_point() else self.class_embed(labels)
            z = torch.cat([z, embedding], dim=1)
        return self.generator(z)

    def score(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(images * 2 - 1)  # (N, 2w * 49)
        logits = self.real_or_fake(h)[:, 0]
        if self.class_projection is not None and labels is not None:
            logits = logits + (self.class_projection(labels) * h).sum(1)
        return logits

    @torch.no_grad()
    def sample(self, n: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """N images; labels default to the classes in turn (0, 1, ..., 9, 0, ...)."""
        device = next(self.parameters()).device
        if labels is None and self.class_embed is not None:
            labels = torch.arange(n) % self.config.n_classes
        z = self.noise(n, generator).to(device)
        return self.generate(z, None if labels is None else labels.to(device))
