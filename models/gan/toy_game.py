"""The toy game: a toy GAN trained live on points in the plane, as a `zoo.jobs` job, in the spirit
of GAN Lab (Kahng et al. 2019).

`train_run` plays the game (`recipe.adversarial_steps` on `model.ToyGAN`) for up to
RUN_SECONDS and yields a frame about every FRAME_SECONDS: G's samples from fixed noise, D's
probability of "real" over a GRID x GRID lattice, G's gradient on some samples (where its loss
pushes them), the mean losses since the last frame, how many of the target's modes G covers, and
the weights with both optimisers' moments. A mode collapse is counted: a sample is on the data
when a real point lies within ON_DATA of it, and then on that point's mode; a mode is covered
when at least COVERED_SHARE of its fair share of the samples are on it. `ToyGame` holds one
person's run between reruns; `figures.toy_game_frame` draws a frame. No Streamlit here.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from models.gan.model import ToyGAN, ToyGANConfig
from models.gan.recipe import adversarial_steps, optimizers
from zoo import jobs
from zoo.checkpoints import pack_state, unpack_state
from zoo.data import toy2d
from zoo.data.toy2d import lattice
from zoo.devices import torch_threads
from zoo.live_run import RUN_SECONDS, LiveRun

BOUNDS = (-2.0, 2.0, -2.0, 2.0)
"""the plane drawn (x0, x1, y0, y1): every target lies well inside"""
GRID = 40
"""points a side of the lattice D's surface is drawn on"""
N_REAL, N_SHOWN, N_ARROWS = 1000, 500, 80
"""real points, generated points drawn (and counted for modes), generated points with an arrow"""
FRAME_SECONDS = 0.25
NOISE = 0.05
"""the standard deviation of every target's jitter"""
ON_DATA = 2 * NOISE
"""a sample this close to a real point is on the data"""
COVERED_SHARE = 0.2
"""a mode is covered when it holds at least this fraction of its fair share (1/K) of the samples"""
LOSSES = ("d_loss", "g_loss", "d_real", "d_fake")
METRICS = ("step", *LOSSES, "modes_covered", "on_data")
NETWORK = ToyGANConfig(noise_dim=2, hidden=64, layers=3)


@dataclass(frozen=True)
class Target:
    """The real distribution: its points and its modes."""
    name: str
    points: np.ndarray
    """float32 (N_REAL, 2)"""
    modes: np.ndarray
    """int64 (N_REAL,) the mode of each point: the nearest centre"""
    centres: np.ndarray
    """float32 (K, 2)"""


def _ring(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return toy2d.ring(n, NOISE, seed).x, toy2d.ring_centres(8)


def _shape(make: Callable[..., toy2d.Points], k: int) -> Callable[[int, int], tuple[np.ndarray, np.ndarray]]:
    """A target whose modes are found by k-means: K stretches of a continuous shape."""
    def points_and_centres(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        x = make(n, NOISE, seed).x
        return x, kmeans(x, k, seed)
    return points_and_centres


TARGETS = {"Ring of 8 gaussians": _ring, "Spiral": _shape(toy2d.spiral, 10), "Two moons": _shape(toy2d.two_moons, 6)}


def _nearest(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point of `a` (N, 2): the index of the nearest point of `b` (M, 2) and the distance to it."""
    pair = (torch.as_tensor(v, dtype=torch.float32) for v in (a, b))
    distance, index = torch.cdist(*pair).min(1)  # torch, not numpy: on the job's one thread
    return index.numpy(), distance.numpy()


def kmeans(x: np.ndarray, k: int, seed: int = 0, iterations: int = 30) -> np.ndarray:
    """(k, 2) centres of `x` (N, 2) by Lloyd's algorithm from a k-means++ start."""
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(len(x))]]
    for _ in range(k - 1):
        d2 = _nearest(x, np.array(centres))[1] ** 2
        centres.append(x[rng.choice(len(x), p=d2 / d2.sum())])
    centres = np.array(centres)
    for _ in range(iterations):
        nearest = _nearest(x, centres)[0]
        centres = np.array([x[nearest == j].mean(0) if (nearest == j).any() else centres[j] for j in range(k)])
    return centres.astype(np.float32)


def make_target(name: str, seed: int = 0) -> Target:
    """The target called `name` (a key of TARGETS)."""
    points, centres = TARGETS[name](N_REAL, seed)
    return Target(name, points.astype(np.float32), _nearest(points, centres)[0], centres.astype(np.float32))


def mode_shares(samples: np.ndarray, target: Target) -> np.ndarray:
    """(K,) the share of `samples` (N, 2) on each mode: within ON_DATA of a real point of that mode."""
    nearest, distance = _nearest(samples, target.points)
    on = distance <= ON_DATA
    return np.bincount(target.modes[nearest[on]], minlength=len(target.centres)) / max(len(samples), 1)


def covered(shares: np.ndarray) -> np.ndarray:
    """(K,) whether each mode holds at least COVERED_SHARE of its fair share of the samples."""
    return shares >= COVERED_SHARE / len(shares)


@dataclass(frozen=True)
class GANSettings:
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    d_steps: int = 1
    """D updates per G update"""
    batch_size: int = 128


def build(settings: GANSettings, state: bytes | None = None, seed: int = 0
          ) -> tuple[ToyGAN, torch.optim.Optimizer, torch.optim.Optimizer]:
    """The toy GAN and its two optimisers, fresh from `seed` or restored from `state`."""
    torch.manual_seed(seed)
    model = ToyGAN(NETWORK)
    g_optimizer, d_optimizer = optimizers(model, settings.g_lr, settings.d_lr)
    if state is not None:
        unpack_state(model, state, g_optimizer, d_optimizer)
    return model, g_optimizer, d_optimizer


def snapshot(model: ToyGAN, target: Target, step: int, seed: int = 0) -> dict:
    """What the page draws: `fake` (N_SHOWN, 2) samples of fixed noise, `surface` (GRID, GRID)
    D's probability of real (float16, rows from y0 up), `push` (N_ARROWS, 2) the direction G's
    loss moves the first samples (the gradient of log D), and the modes they cover: each mode's
    share of the samples, whether it is covered, how many are, and the share on any mode."""
    z = torch.randn(N_SHOWN, NETWORK.noise_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        fake = model.generate(z)
        _, _, grid = lattice(BOUNDS, GRID)
        surface = torch.sigmoid(model.score(grid)).reshape(GRID, GRID)
    moving = fake[:N_ARROWS].clone().requires_grad_(True)
    push, = torch.autograd.grad(-model.generator_loss(model.score(moving)), moving)
    shares = mode_shares(fake.numpy(), target)
    return {"step": step, "fake": fake.numpy(), "surface": surface.numpy().astype(np.float16),
            "push": push.numpy(), "mode_shares": shares, "mode_covered": covered(shares),
            "modes_covered": int(covered(shares).sum()), "on_data": float(shares.sum())}


def _real_batches(points: np.ndarray, batch_size: int, seed: int) -> Iterator[tuple[torch.Tensor]]:
    """Endless batches of real points drawn at random with replacement."""
    x, generator = torch.from_numpy(points), torch.Generator().manual_seed(seed)
    while True:
        yield x[torch.randint(len(x), (batch_size,), generator=generator)],


def train_run(target: Target, settings: GANSettings, state: bytes | None = None, step: int = 0, seed: int = 0,
              seconds: float = RUN_SECONDS, frame_seconds: float = FRAME_SECONDS, max_steps: int | None = None,
              threads: int | None = 1) -> Iterator[dict]:
    """Job: play from `state` (fresh networks from `seed` if None) at step `step` for up to `seconds`
    or `max_steps` more steps, yielding a frame with the state about every `frame_seconds`;
    returns the last frame. Torch runs on `threads` threads meanwhile (see `zoo.devices.torch_threads`)."""
    with torch_threads(threads):
        model, g_optimizer, d_optimizer = build(settings, state, seed)
        torch.manual_seed(seed + step)  # G's noise: a resumed run does not replay the first run's
        batches = _real_batches(target.points, settings.batch_size, seed + step)
        end = step + max_steps if max_steps else sys.maxsize
        sums, count, last = dict.fromkeys(LOSSES, 0.0), 0, None
        started = time.perf_counter()
        deadline, next_frame = started + seconds, started + frame_seconds
        for event in adversarial_steps(model, batches, g_optimizer, d_optimizer, end, settings.d_steps, step):
            for key in LOSSES:
                sums[key] += event[key]
            count += 1
            now = time.perf_counter()
            if now >= next_frame or now >= deadline or event["step"] == end:
                last = snapshot(model, target, event["step"], seed)
                last.update({key: value / count for key, value in sums.items()}, elapsed_s=now - started,
                            state=pack_state(model, g_optimizer, d_optimizer), **{jobs.LIVE_FRAME: True})
                sums, count = dict.fromkeys(LOSSES, 0.0), 0
                yield last
                next_frame = time.perf_counter() + frame_seconds
                if now >= deadline:
                    break
        return last


@dataclass(eq=False)
class ToyGame(LiveRun):
    """One person's toy GAN between reruns: target, weights, history, running job."""
    target: Target
    seed: int = 0
    """fresh networks come from it; Reset makes a game with the next seed"""
    settings: GANSettings | None = None
    """of the running job"""
    metrics = METRICS

    def start(self, runner: jobs.JobRunner, session: str, settings: GANSettings, seconds: float = RUN_SECONDS) -> None:
        """Submit a run from the current state; raises jobs.JobLimitError if the session has a job."""
        self._submit(runner, session, train_run, seconds, target=self.target, settings=settings, state=self.state,
                     step=self.step, seed=self.seed)
        self.settings = settings

    def view(self) -> dict:
        """The frame to draw: the last one, or the untrained networks' before any."""
        if self.frame is None:
            model, _, _ = build(GANSettings(), self.state, self.seed)
            self.frame = snapshot(model, self.target, self.step, self.seed)
        return self.frame
