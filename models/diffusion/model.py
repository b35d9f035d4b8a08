"""A denoising diffusion model (DDPM, Ho et al. 2020) on Fashion-MNIST, class-conditional with
classifier-free guidance (Ho & Salimans 2022), sampled ancestrally or with DDIM (Song et al. 2021).

The forward process q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) adds Gaussian noise over
T steps; a small U-Net eps_theta(x_t, t, y) learns to predict that noise, and walking back from
pure noise with its predictions draws new garments. Images live in [-1, 1] inside the model and
in [0, 1] outside it, as every image model of the zoo takes them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

SCHEDULES = ("linear", "cosine")


@dataclass
class DiffusionConfig:
    channels: tuple[int, ...] = (32, 64, 64)
    """U-Net width at each resolution, 28x28 down to 7x7 (each level halves the size)"""
    attention: bool = True
    """one self-attention block at the bottleneck"""
    embed_dim: int = 128
    """size of the time and class embedding every residual block receives"""
    n_classes: int = 10
    """labels 0..n_classes-1; label n_classes is the null class of classifier-free guidance"""
    label_dropout: float = 0.1
    """share of training labels replaced by the null class, so one net learns both eps(x, t, y) and eps(x, t)"""
    timesteps: int = 1000
    """T, the number of noising steps"""
    schedule: str = "cosine"
    """linear betas 1e-4..0.02 (Ho et al.) or the cosine abar of Nichol & Dhariwal (2021)"""


def alpha_bars(schedule: str, T: int) -> torch.Tensor:
    """abar_t for t = 0..T-1 (float64): the share of the signal's variance left at step t."""
    if schedule == "linear":
        return torch.cumprod(1 - torch.linspace(1e-4, 0.02, T, dtype=torch.float64), 0)
    if schedule == "cosine":
        s = 0.008
        f = torch.cos((torch.arange(T + 1, dtype=torch.float64) / T + s) / (1 + s) * math.pi / 2) ** 2
        betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
        return torch.cumprod(1 - betas, 0)
    raise ValueError(f"unknown schedule {schedule!r}; known: {', '.join(SCHEDULES)}")


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of integer steps (B,) -> (B, dim), as in the Transformer."""
    frequencies = torch.exp(-math.log(10_000) * torch.arange(dim // 2, device=t.device) / (dim // 2))
    angles = t.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with group norm, the embedding added in between, and a skip path."""

    def __init__(self, c_in: int, c_out: int, embed_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.embed = nn.Linear(embed_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(8, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.embed(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    """Multi-head self-attention over the pixels of a small feature map, residual."""

    def __init__(self, channels: int, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(8, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, self.heads, C // self.heads, H * W).transpose(-1, -2).unbind(1)
        h = F.scaled_dot_product_attention(q, k, v)  # (B, heads, H*W, C/heads)
        return x + self.out(h.transpose(-1, -2).reshape(B, C, H, W))


class UNet(nn.Module):
    """eps_theta(x_t, t, y): one residual block per level down and up, skip connections across."""

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        c, e = tuple(config.channels), config.embed_dim  # a card's JSON gives a list
        self.time = nn.Sequential(nn.Linear(c[0], e), nn.SiLU(), nn.Linear(e, e))
        self.label = nn.Embedding(config.n_classes + 1, e)
        self.stem = nn.Conv2d(1, c[0], 3, padding=1)
        self.down = nn.ModuleList(ResBlock(c_in, c_out, e) for c_in, c_out in zip((c[0],) + c[:-1], c))
        self.shrink = nn.ModuleList(nn.Conv2d(ch, ch, 3, stride=2, padding=1) for ch in c[:-1])
        self.middle = nn.ModuleList([ResBlock(c[-1], c[-1], e), ResBlock(c[-1], c[-1], e)])
        self.attention = Attention(c[-1]) if config.attention else None  # between the two middle blocks
        self.up = nn.ModuleList(ResBlock(2 * ch, ch, e) for ch in c[::-1])  # its input and the skip, concatenated
        self.grow = nn.ModuleList(nn.Conv2d(wide, narrow, 3, padding=1) for wide, narrow in zip(c[:0:-1], c[-2::-1]))
        self.out = nn.Sequential(nn.GroupNorm(8, c[0]), nn.SiLU(), nn.Conv2d(c[0], 1, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = self.time(timestep_embedding(t, self.stem.out_channels)) + self.label(y)  # (B, e)
        h, skips = self.stem(x), []
        for i, block in enumerate(self.down):
            h = block(h, emb)
            skips.append(h)
            if i < len(self.shrink):
                h = self.shrink[i](h)  # 28 -> 14 -> 7
        h = self.middle[0](h, emb)
        if self.attention is not None:
            h = self.attention(h)
        h = self.middle[1](h, emb)
        for i, block in enumerate(self.up):
            h = block(torch.cat([h, skips.pop()], 1), emb)
            if i < len(self.grow):
                h = self.grow[i](F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.out(h)


class Diffusion(nn.Module):
    """The noise schedule, the training objective and the samplers around one U-Net."""

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        if config.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {config.schedule!r}; known: {', '.join(SCHEDULES)}")
        self.config = config
        self.net = UNet(config)
        abar = alpha_bars(config.schedule, config.timesteps)
        self.register_buffer("alpha_bar", abar.float(), persistent=False)  # derived from the config, not saved
        self.register_buffer("beta", (1 - abar / torch.cat([abar.new_ones(1), abar[:-1]])).float(), persistent=False)

    @property
    def null_label(self) -> int:
        return self.config.n_classes

    def signal_to_noise(self) -> torch.Tensor:
        """SNR(t) = abar_t / (1 - abar_t), for t = 0..T-1."""
        return self.alpha_bar / (1 - self.alpha_bar)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t drawn from q(x_t | x_0) in closed form, with the given standard normal noise."""
        abar = self.alpha_bar[t].view(-1, 1, 1, 1)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

    def q_step(self, x_prev: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """One forward step: x_t drawn from q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)."""
        beta = self.beta[t].view(-1, 1, 1, 1)
        return (1 - beta).sqrt() * x_prev + beta.sqrt() * noise

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Ho et al.'s simple objective: the mean squared error of the predicted noise at a random
        step, for images x (B, 1, 28, 28) in [0, 1] with labels y, some dropped to the null class."""
        x0 = 2 * x - 1
        t = torch.randint(0, self.config.timesteps, (len(x),), device=x.device)
        dropped = torch.rand(len(x), device=x.device) < self.config.label_dropout
        y = torch.where(dropped, torch.full_like(y, self.null_label), y)
        noise = torch.randn_like(x0)
        return {"loss": F.mse_loss(self.net(self.q_sample(x0, t, noise), t, y), noise)}

    def guided_eps(self, x: torch.Tensor, t: int, y: torch.Tensor | None, guidance: float) -> torch.Tensor:
        """eps(x, t) + guidance * (eps(x, t, y) - eps(x, t)): 0 is unconditional, 1 plainly conditional,
        more pushes samples further towards their class. No labels means unconditional."""
        steps = torch.full((len(x),), t, device=x.device, dtype=torch.long)
        null = torch.full_like(steps, self.null_label)
        if y is None or guidance == 0:
            return self.net(x, steps, null)
        if guidance == 1:
            return self.net(x, steps, y)
        conditional, unconditional = self.net(torch.cat([x, x]), torch.cat([steps, steps]), torch.cat([y, null])).chunk(2)
        return unconditional + guidance * (conditional - unconditional)

    def schedule_steps(self, steps: int, start: int | None = None) -> list[int]:
        """`steps` evenly spaced timesteps from `start` (default T-1) down to 0, without repeats."""
        start = self.config.timesteps - 1 if start is None else start
        return sorted({round(start - i * start / max(steps - 1, 1)) for i in range(steps)}, reverse=True)

    @torch.no_grad()
    def reverse(self, x: torch.Tensor, timesteps: list[int], y: torch.Tensor | None = None, guidance: float = 1.0,
                eta: float = 0.0, generator: torch.Generator | None = None
                ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """Walk x_t (at timesteps[0]) down the descending `timesteps`, yielding (t, x_t, predicted x_0)
        at each; the last predicted x_0 is the sample (in [-1, 1]).

        The DDIM update (Song et al. eq. 12): x_s = sqrt(abar_s) x0 + sqrt(1 - abar_s - sigma^2) eps + sigma z,
        sigma = eta * sqrt((1 - abar_s) / (1 - abar_t) * (1 - abar_t / abar_s)). eta = 0 is deterministic
        DDIM; eta = 1 over every step is Ho et al.'s ancestral sampler with variance beta-tilde."""
        for i, t in enumerate(timesteps):
            abar = self.alpha_bar[t]
            abar_next = self.alpha_bar[timesteps[i + 1]] if i + 1 < len(timesteps) else abar.new_tensor(1.0)
            eps = self.guided_eps(x, t, y, guidance)
            x0 = ((x - (1 - abar).sqrt() * eps) / abar.sqrt()).clamp(-1, 1)
            yield t, x, x0
            eps = (x - abar.sqrt() * x0) / (1 - abar).sqrt()  # consistent with the clipped x0
            sigma = eta * ((1 - abar_next) / (1 - abar) * (1 - abar / abar_next)).sqrt()
            x = abar_next.sqrt() * x0 + (1 - abar_next - sigma ** 2).clamp(min=0).sqrt() * eps
            if eta:
                x = x + sigma * torch.randn(x.shape, generator=generator).to(x.device)

    @torch.no_grad()
    def sample(self, n: int, labels: torch.Tensor | None = None, steps: int = 50, guidance: float = 1.0,
               eta: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """N images (N, 1, 28, 28) in [0, 1] from pure noise: DDIM with `steps` steps, or with
        steps = T and eta = 1 the ancestral DDPM sampler. Noise comes from `generator` on the CPU."""
        device = self.alpha_bar.device
        x = torch.randn(n, 1, 28, 28, generator=generator).to(device)
        y = None if labels is None else labels.to(device)
        for _, _, x0 in self.reverse(x, self.schedule_steps(steps), y, guidance, eta, generator):
            pass
        return (x0 + 1) / 2
