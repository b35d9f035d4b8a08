"""What the diffusion page computes with the trained model: the forward process as pictures, walks
down the reverse process (from noise, or SDEdit from an image), timed samples, the sampler timed on
this machine, and the person's uploads made to look like Fashion-MNIST, as numpy arrays ready to draw."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from zoo.photos import to_fashion_tensor
from zoo.uploads import load_image

SDEDIT_STEP = 700
"""SDEdit's default noise step: on 50 test images denoised with no class, step 700 changed a pixel by 0.078 on
average (500 by 0.054, which left the garment looking untouched) while the shipped CNN still named 66% of them
as before (92% before any edit, 50% at step 800); asked for another class, 38% became it at 700, 72% at 800
(tests/bench/bench_diffusion_sdedit.py)"""


def _pixels(x: torch.Tensor) -> np.ndarray:
    """Model-space images (N, 1, 28, 28) in about [-1, 1] -> (N, 28, 28) in [0, 1] to look at."""
    return ((x.squeeze(1).float().cpu() + 1) / 2).clamp(0, 1).numpy()


def noised(model: torch.nn.Module, image: torch.Tensor, steps: list[int], seed: int = 0) -> np.ndarray:
    """One image (1, 28, 28) in [0, 1] drawn from q(x_t | x_0) at each of `steps`, with the same noise."""
    device = model.alpha_bar.device
    noise = torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(seed)).to(device)
    x0 = (2 * image.to(device) - 1).expand(len(steps), 1, 28, 28)
    return _pixels(model.q_sample(x0, torch.tensor(steps, device=device), noise.expand_as(x0)))


def signal_to_noise(model: torch.nn.Module) -> np.ndarray:
    return model.signal_to_noise().cpu().numpy()


@dataclass(frozen=True)
class Trajectory:
    """A walk down the reverse process: x_t and the predicted x_0 at each visited step t."""
    timesteps: list[int]
    noisy: np.ndarray
    """(S, 28, 28) in [0, 1]"""
    predicted: np.ndarray
    """(S, 28, 28) in [0, 1]; the last one is the sample"""
    seconds: float

    def side_by_side(self) -> np.ndarray:
        """(S, 28, 58): each x_t and its predicted x_0 left to right, a clear (NaN) two-pixel gap between."""
        gap = np.full((len(self.noisy), 28, 2), np.nan, dtype=np.float32)
        return np.concatenate([self.noisy, gap, self.predicted], axis=2)


def denoise(model: torch.nn.Module, label: int | None, steps: int, guidance: float, seed: int = 0,
            start: np.ndarray | torch.Tensor | None = None, t_start: int | None = None) -> Trajectory:
    """One image denoised with DDIM in `steps` steps: from pure noise, or (SDEdit, Meng et al.
    2022) from the image `start` (1, 28, 28) in [0, 1] noised to step `t_start`."""
    device = model.alpha_bar.device
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, 28, 28, generator=generator).to(device)
    timesteps = model.schedule_steps(steps, t_start)
    if start is not None:
        x0 = 2 * torch.as_tensor(start, dtype=torch.float32).reshape(1, 1, 28, 28).to(device) - 1
        x = model.q_sample(x0, torch.tensor([timesteps[0]], device=device), x)
    y = None if label is None else torch.tensor([label], device=device)
    started = time.perf_counter()
    walk = list(model.reverse(x, timesteps, y, guidance, generator=generator))
    seconds = time.perf_counter() - started
    return Trajectory([t for t, _, _ in walk], _pixels(torch.cat([xt for _, xt, _ in walk])),
                      _pixels(torch.cat([guess for _, _, guess in walk])), seconds)


def samples(model: torch.nn.Module, labels: list[int], steps: int, guidance: float, seed: int = 0
            ) -> tuple[np.ndarray, float]:
    """Images (N, 28, 28) in [0, 1] of the given classes with DDIM, and the seconds it took."""
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    images = model.sample(len(labels), torch.tensor(labels), steps, guidance, generator=generator)
    return images.squeeze(1).cpu().numpy(), time.perf_counter() - started


def seconds_per_image(model: torch.nn.Module, step_counts: list[int], n: int = 4, guidance: float = 1.0,
                      seed: int = 0) -> dict[int, float]:
    """Seconds per image of sampling a batch of `n` images with DDIM in each of `step_counts` steps on the model's
    device: the card's timing (one U-Net pass a step at guidance 1), measured on this machine."""
    labels = [i % model.config.n_classes for i in range(n)]
    return {steps: samples(model, labels, steps, guidance, seed)[1] / n for steps in step_counts}


def garment_image(data: bytes, name: str) -> np.ndarray:
    """One of the person's image files made to look like Fashion-MNIST, as uint8 (28, 28); raises
    `zoo.uploads.UploadError` when it cannot be read."""
    return (to_fashion_tensor(load_image(data, name))[0].numpy() * 255).round().astype(np.uint8)
