"""What the GAN page computes with the DCGAN: samples by seed and class, a walk through the latent
space between two samples, and D's score of an image beside its scores of real and generated ones."""
from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class ScoreReference:
    """D's probability of "real" for real test images and for G's samples, class by class: what a score of
    D means, since near the end of training D scores both about alike."""
    real: list[np.ndarray]
    """per class, D's score of real test images of that class, asked about that class"""
    generated: list[np.ndarray]
    """per class, D's score of as many of G's samples of that class"""
    own_class_top: float
    """the share of real images to which D, asked about every class, gives its highest score for their own"""

    def shares_below(self, score: float, label: int) -> tuple[float, float]:
        """The share of real and of generated images of class `label` that D scores below `score` (ties half)."""
        return tuple(float((scores < score).mean() + 0.5 * (scores == score).mean())
                     for scores in (self.real[label], self.generated[label]))

    def separability(self, label: int) -> float:
        """How often D scores a real image of class `label` above one of G's (0.5: it cannot tell them apart)."""
        real, generated = self.real[label][:, None], self.generated[label][None, :]
        return float((real > generated).mean() + 0.5 * (real == generated).mean())


@torch.no_grad()
def score_reference(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, per_class: int = 200,
                    seed: int = 0, class_check: int = 30) -> ScoreReference:
    """D's scores of up to `per_class` real `images` (N, 1, 28, 28) in [0, 1] of each class and of as many of
    G's samples of it (noise of `seed`), and how often D, asked about every class, ranks first the true class
    of the first `class_check` real images of each class."""
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    real, generated, own_top = [], [], []
    for label in range(model.config.n_classes):
        members = images[labels == label][:per_class].to(device)
        asked = torch.full((len(members),), label, device=device)
        real.append(torch.sigmoid(model.score(members, asked)).cpu().numpy())
        fakes = model.sample(len(members), asked.cpu(), generator)
        generated.append(torch.sigmoid(model.score(fakes, asked)).cpu().numpy())
        checked = members[:class_check]
        every = torch.stack([model.score(checked, torch.full((len(checked),), c, device=device))
                             for c in range(model.config.n_classes)], 1)  # (n, n_classes)
        own_top.append((every.argmax(1) == label).cpu().numpy())
    return ScoreReference(real, generated, float(np.concatenate(own_top).mean()))


@torch.no_grad()
def judge(model: torch.nn.Module, image: torch.Tensor, label: int) -> float:
    """D's probability that `image` (1, 28, 28) in [0, 1] is a real garment of class `label`."""
    device = next(model.parameters()).device
    return float(torch.sigmoid(model.score(image.to(device).unsqueeze(0), torch.tensor([label], device=device))))
