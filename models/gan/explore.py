"""What the GAN page computes with the DCGAN: samples by seed and class, a walk through the latent
space between two samples, and D's verdict on an image."""
from __future__ import annotations

import numpy as np
import torch


def sample_grid(model: torch.nn.Module, seed: int, label: int | None = None, n: int = 40) -> np.ndarray:
    """N images (N, 28, 28) from the noise of `seed`: all of class `label`, or (None) the classes in turn."""
    labels = None if label is None else torch.full((n,), label)
    return model.sample(n, labels, torch.Generator().manual_seed(seed)).squeeze(1).cpu().numpy()


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Points along the great circle from `a` to `b` (1, D) at fractions `t` (T, 1) (White 2016): unlike a
    straight line, it keeps the length a Gaussian noise vector typically has, so every point looks like noise to G."""
    omega = torch.arccos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
    if omega < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


@torch.no_grad()
def interpolate(model: torch.nn.Module, seeds: tuple[int, int], labels: tuple[int, int], steps: int) -> np.ndarray:
    """(steps, 28, 28): G from seed a's noise and class a to seed b's noise and class b, the noise
    along a great circle and the class embedding blended in a straight line."""
    z_a, z_b = (model.noise(1, torch.Generator().manual_seed(seed)) for seed in seeds)
    t = torch.linspace(0, 1, steps)[:, None]
    weights = torch.zeros(steps, model.config.n_classes)
    weights[:, labels[0]] += 1 - t[:, 0]
    weights[:, labels[1]] += t[:, 0]
    device = next(model.parameters()).device
    return model.generate(slerp(z_a, z_b, t).to(device), weights.to(device)).squeeze(1).cpu().numpy()


@torch.no_grad()
def realness(model: torch.nn.Module, image: torch.Tensor) -> np.ndarray:
    """D's probability that `image` (1, 28, 28) is a real garment of each class: (n_classes,)."""
    device = next(model.parameters()).device
    labels = torch.arange(model.config.n_classes, device=device)
    images = image.to(device).unsqueeze(0).expand(len(labels), -1, -1, -1)
    return torch.sigmoid(model.score(images, labels)).cpu().numpy()
