"""Autoencoders on Fashion-MNIST: plain, denoising (Vincent et al. 2008), sparse (L1 on the
code, as in Ng's sparse-autoencoder notes) and variational (Kingma & Welling 2014).

The plain, denoising and variational ones share a small conv encoder and decoder; the VAE's
encoder gives a Gaussian q(z | x) and the decoder a Bernoulli p(x | z) per pixel, so its
loss is the negative ELBO in nats. The sparse one is a single dense layer each way, so each
code unit's decoder weights are one 28x28 picture: its learned dictionary.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

KINDS = ("ae", "denoising", "sparse", "vae")


@dataclass
class AutoencoderConfig:
    kind: str = "vae"
    """ae, denoising, sparse or vae"""
    latent: int = 16
    """size of the code z (units in the hidden layer for the sparse one)"""
    channels: tuple[int, int] = (32, 64)
    """width of the two stride-2 conv stages (not used by the sparse one)"""
    noise: float = 0.0
    """denoising: training inputs get Gaussian noise of a std drawn up to this per image"""
    l1: float = 0.0
    """sparse: weight of the mean absolute code in the loss"""
    beta: float = 1.0
    """vae: weight of the KL term (1 is the ELBO; Higgins et al. 2017 vary it)"""


class Autoencoder(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> reconstructions in [0, 1]; `encode` gives the code."""

    def __init__(self, config: AutoencoderConfig):
        super().__init__()
        if config.kind not in KINDS:
            raise ValueError(f"unknown autoencoder kind {config.kind!r}; known: {', '.join(KINDS)}")
        self.config = config
        c1, c2 = config.channels
        code = 2 * config.latent if config.kind == "vae" else config.latent  # the VAE encodes mean and log-variance
        if config.kind == "sparse":
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, code), nn.ReLU())
            self.decoder = nn.Sequential(nn.Linear(config.latent, 784), nn.Unflatten(1, (1, 28, 28)))
        else:
            self.encoder = nn.Sequential(
                nn.Conv2d(1, c1, 4, 2, 1), nn.BatchNorm2d(c1), nn.LeakyReLU(0.2),   # (N, c1, 14, 14)
                nn.Conv2d(c1, c2, 4, 2, 1), nn.BatchNorm2d(c2), nn.LeakyReLU(0.2),  # (N, c2, 7, 7)
                nn.Flatten(), nn.Linear(c2 * 49, code))
            self.decoder = nn.Sequential(
                nn.Linear(config.latent, c2 * 49), nn.Unflatten(1, (c2, 7, 7)), nn.BatchNorm2d(c2), nn.ReLU(),
                nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.BatchNorm2d(c1), nn.ReLU(),  # (N, c1, 14, 14)
                nn.ConvTranspose2d(c1, 1, 4, 2, 1))                                  # (N, 1, 28, 28) logits

    @property
    def variational(self) -> bool:
        return self.config.kind == "vae"

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The code (N, latent) and, for the VAE, the log-variance of q(z | x) (the code is its mean)."""
        h = self.encoder(x)
        if self.variational:
            mean, log_var = h.chunk(2, dim=1)
            return mean, log_var.clamp(-12, 8)
        return h, None

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] (the Bernoulli means) from codes (N, latent)."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction, from the code (the VAE's posterior mean, no sampling)."""
        return self.decode(self.encode(x)[0])

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """A denoising autoencoder's training input: Gaussian noise of a random std per image."""
        std = torch.rand(len(x), 1, 1, 1, device=x.device) * self.config.noise
        return (x + std * torch.randn_like(x)).clamp(0, 1)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, beta: float | None = None,
             sample_z: bool | None = None) -> dict[str, torch.Tensor]:
        """The objective `loss` and its per-image terms: reconstruction (Bernoulli negative
        log-likelihood in nats), and the KL term (VAE) or the code's L1 norm (sparse).

        `beta` overrides the config's KL weight (the page's slider); the VAE samples z while
        training, or when `sample_z` says so (the ELBO), and decodes the mean otherwise."""
        source = self.corrupt(x) if self.config.kind == "denoising" and self.training else x
        code, log_var = self.encode(source)
        z = code
        if self.variational and (self.training if sample_z is None else sample_z):
            z = code + torch.randn_like(code) * (0.5 * log_var).exp()  # the reparameterisation trick
        reconstruction = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="sum") / len(x)
        terms = {"loss": reconstruction, "reconstruction": reconstruction}
        if self.variational:
            terms["kl"] = 0.5 * (code.pow(2) + log_var.exp() - 1 - log_var).sum(1).mean()
            terms["loss"] = reconstruction + (self.config.beta if beta is None else beta) * terms["kl"]
        if self.config.kind == "sparse":
            terms["l1"] = code.abs().sum(1).mean()
            terms["loss"] = reconstruction + self.config.l1 * terms["l1"]
        return terms

    def dictionary(self) -> torch.Tensor:
        """The sparse autoencoder's atoms: each code unit's decoder weights as a (latent, 28, 28) image."""
        if self.config.kind != "sparse":
            raise ValueError("only the sparse autoencoder has a dictionary of dense atoms")
        return self.decoder[0].weight.detach().T.reshape(-1, 28, 28)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """N images decoded from the prior z ~ N(0, I) (VAE only)."""
        if not self.variational:
            raise ValueError("only the VAE has a prior to sample from")
        device = next(self.parameters()).device
        z = torch.randn(n, self.config.latent, generator=generator).to(device)
        return self.decode(z)
