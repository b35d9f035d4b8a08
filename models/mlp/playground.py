"""The MLP playground: live training of a tiny network on 2-D points, as a `zoo.jobs` job.

`train_run` trains for up to RUN_SECONDS and yields a frame about every FRAME_SECONDS: losses
and accuracies on all points, class probabilities over a GRID x GRID lattice of the plane,
one hidden layer's activations over a coarser lattice, and the weights with the optimiser's
moments as safetensors bytes. Pausing cancels the job and keeps the last frame's state;
starting again submits a new run from it, so a run continues where it stopped. `Playground`
holds one person's session (data, network, state, history) between reruns; models.mlp.figures
draws its frames (`decision_boundary`, `unit_maps`). No Streamlit here.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from models.mlp.model import PlaygroundConfig, PlaygroundMLP
from zoo import jobs
from zoo.checkpoints import pack_state, unpack_state
from zoo.data.toy2d import Points, lattice
from zoo.devices import torch_threads
from zoo.i18n import t
from zoo.live_run import RUN_SECONDS, LiveRun

GRID = 60
"""points a side of the lattice the decision boundary is drawn on"""
UNIT_GRID = 24
"""points a side of the lattice each hidden unit's activation is drawn on"""
FRAME_SECONDS = 0.25
MAX_LAYERS, MAX_UNITS = 6, 32
OPTIMIZERS = {"Adam": torch.optim.Adam, "SGD": torch.optim.SGD}
METRICS = ("step", "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")


@dataclass(frozen=True)
class TrainSettings:
    lr: float = 0.03
    l2: float = 0.0
    """L2 penalty on the weights (not the biases), as the optimiser's weight decay"""
    batch_size: int = 16
    optimizer: str = "Adam"


def network(train: Points, features: tuple[str, ...], hidden: tuple[int, ...], activation: str) -> PlaygroundConfig:
    """A playground network for `train`, standardising inputs by its mean and spread."""
    return PlaygroundConfig(features=tuple(features), hidden=tuple(hidden), activation=activation,
                            n_classes=train.n_classes, center=tuple(float(v) for v in train.x.mean(0)),
                            scale=tuple(float(v) for v in np.maximum(train.x.std(0), 1e-6)))


def parse_hidden(text: str) -> tuple[int, ...]:
    """'8, 8, 4' -> (8, 8, 4); raises ValueError with a sentence for the person."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not all(p.isdigit() for p in parts):
        raise ValueError(t("mlp.hidden_not_numbers", text=text))
    sizes = tuple(int(p) for p in parts)
    if len(sizes) > MAX_LAYERS or not all(1 <= s <= MAX_UNITS for s in sizes):
        raise ValueError(t("mlp.hidden_too_many", max_layers=MAX_LAYERS, max_units=MAX_UNITS))
    return sizes


def plane(points: Points, margin: float = 0.1) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): a square around the points, `margin` of its side left free on every side."""
    low, high = points.x.min(0), points.x.max(0)
    centre, half = (low + high) / 2, max(float((high - low).max()), 1e-3) * (0.5 + margin)
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half))


def build(config: PlaygroundConfig, settings: TrainSettings, state: bytes | None = None,
          seed: int = 0) -> tuple[PlaygroundMLP, torch.optim.Optimizer]:
    """The network and its optimiser, fresh from `seed` or restored from `state`."""
    torch.manual_seed(seed)
    model = PlaygroundMLP(config)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    optimizer = OPTIMIZERS[settings.optimizer]([{"params": weights, "weight_decay": settings.l2},
                                                {"params": biases, "weight_decay": 0.0}], lr=settings.lr)
    if state is not None:
        unpack_state(model, state, optimizer)
    return model, optimizer


@torch.no_grad()
def snapshot(model: PlaygroundMLP, train: Points, test: Points, bounds: tuple[float, float, float, float],
          layer: int, step: int) -> dict:
    """What the page draws: metrics on all points, class probabilities (C, GRID, GRID) and
    layer `layer`'s (1-based) activations (units, UNIT_GRID, UNIT_GRID), both float16."""
    was_training = model.training
    model.eval()
    out: dict = {"step": step}
    for name, points in (("train", train), ("test", test)):
        if len(points):
            logits = model(torch.from_numpy(points.x))
            y = torch.from_numpy(points.y)
            out[f"{name}_loss"] = torch.nn.functional.cross_entropy(logits, y).item()
            out[f"{name}_accuracy"] = (logits.argmax(1) == y).float().mean().item()
    _, _, grid = lattice(bounds, GRID)
    proba = torch.softmax(model(grid), 1).T.reshape(-1, GRID, GRID)
    out["proba"] = proba.numpy().astype(np.float16)
    out["layer"] = layer
    if 1 <= layer <= len(model.layers):
        _, _, coarse = lattice(bounds, UNIT_GRID)
        units = model.hidden_activations(coarse)[layer - 1].T.reshape(-1, UNIT_GRID, UNIT_GRID)
        out["units"] = units.numpy().astype(np.float16)
    model.train(was_training)
    return out


def _batches(train: Points, batch_size: int, seed: int, start_step: int = 0
             ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled mini-batches; epoch e uses permutation seed + e, so a run resumed at
    `start_step` sees exactly the batches an unbroken run would have."""
    x, y = torch.from_numpy(train.x), torch.from_numpy(train.y)
    size = min(batch_size, len(y))
    per_epoch = len(y) // size
    step = start_step
    while True:
        epoch, index = divmod(step, per_epoch)
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed + epoch))
        for i in range(index, per_epoch):
            yield x[order[i * size:(i + 1) * size]], y[order[i * size:(i + 1) * size]]
        step = (epoch + 1) * per_epoch


def train_run(config: PlaygroundConfig, train: Points, test: Points, settings: TrainSettings,
              bounds: tuple[float, float, float, float], state: bytes | None = None, step: int = 0,
              layer: int = 1, seed: int = 0, seconds: float = RUN_SECONDS,
              frame_seconds: float = FRAME_SECONDS, max_steps: int | None = None,
              steps_per_s: float | None = None, threads: int | None = 1) -> Iterator[dict]:
    """Job: train from `state` (fresh weights from `seed` if None) at step `step` for up to
    `seconds` or `max_steps` more steps, at most `steps_per_s` (None: as fast as it goes),
    yielding a frame with the state about every `frame_seconds`; returns the last frame.

    Torch runs on `threads` threads meanwhile (None: as it is): a network this small gains
    nothing from more, and on a busy CPU their spin-waiting made steps 3x slower (measured).
    """
    with torch_threads(threads):
        return (yield from _train(config, train, test, settings, bounds, state, step, layer, seed, seconds,
                                  frame_seconds, max_steps, steps_per_s))


def _train(config: PlaygroundConfig, train: Points, test: Points, settings: TrainSettings,
           bounds: tuple[float, float, float, float], state: bytes | None, step: int, layer: int, seed: int,
           seconds: float, frame_seconds: float, max_steps: int | None, steps_per_s: float | None) -> Iterator[dict]:
    model, optimizer = build(config, settings, state, seed)
    per_epoch = max(1, len(train) // min(settings.batch_size, len(train)))
    batches = _batches(train, settings.batch_size, seed, step)
    end = step + max_steps if max_steps else None
    started = time.perf_counter()
    deadline, next_frame = started + seconds, started + frame_seconds
    model.train()
    first, last = step, None
    while end is None or step < end:
        # the generic zoo.training.loop.train_steps costs a third of a step this small, so the step is spelt out
        x, y = next(batches)
        loss = model.loss(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        now = time.perf_counter()
        if steps_per_s and (ahead := started + (step - first) / steps_per_s - now) > 0:
            time.sleep(min(ahead, frame_seconds))  # slow motion, for watching
            now = time.perf_counter()
        if now >= next_frame or now >= deadline or step == end:
            last = snapshot(model, train, test, bounds, layer, step)
            last.update(epoch=step / per_epoch, state=pack_state(model, optimizer), elapsed_s=now - started,
                        **{jobs.LIVE_FRAME: True})
            yield last
            next_frame = time.perf_counter() + frame_seconds
            if now >= deadline:
                break
    return last


def one_step(config: PlaygroundConfig, train: Points, test: Points, settings: TrainSettings,
             bounds: tuple[float, float, float, float], state: bytes | None, step: int, layer: int,
             seed: int = 0) -> dict:
    """A single training step in this process (trivial for so small a network): its frame."""
    return next(train_run(config, train, test, settings, bounds, state, step, layer, seed, seconds=float("inf"),
                          frame_seconds=float("inf"), max_steps=1, threads=None))


@dataclass(eq=False)
class Playground(LiveRun):
    """One person's playground between reruns: data, network, weights, history, running job."""
    config: PlaygroundConfig
    train: Points
    test: Points
    seed: int = 0
    """fresh weights come from it; Reset makes a playground with the next seed"""
    bounds: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0)
    settings: TrainSettings | None = None
    """of the running job"""
    steps_per_s: float | None = None
    """of the running job"""
    metrics = METRICS

    @classmethod
    def create(cls, config: PlaygroundConfig, train: Points, test: Points, seed: int = 0) -> Playground:
        both = Points(np.concatenate([train.x, test.x]), np.concatenate([train.y, test.y]), train.classes)
        return cls(config, train, test, seed, plane(both))

    def start(self, runner: jobs.JobRunner, session: str, settings: TrainSettings, layer: int,
              steps_per_s: float | None = None, seconds: float = RUN_SECONDS) -> None:
        """Submit a run from the current state; raises jobs.JobLimitError if the session has a job."""
        self._submit(runner, session, train_run, seconds, config=self.config, train=self.train, test=self.test,
                     settings=settings, bounds=self.bounds, state=self.state, step=self.step, layer=layer,
                     seed=self.seed, steps_per_s=steps_per_s)
        self.settings, self.steps_per_s = settings, steps_per_s

    def one_step(self, settings: TrainSettings, layer: int) -> None:
        self._absorb(one_step(self.config, self.train, self.test, settings, self.bounds, self.state,
                              self.step, layer, self.seed))

    def view(self, layer: int) -> dict:
        """The frame to draw, with layer `layer`'s activations (computed here if the frame lacks them)."""
        if self.frame is not None and self.frame["layer"] == layer:
            return self.frame
        model, _ = build(self.config, TrainSettings(), self.state, self.seed)
        current = snapshot(model, self.train, self.test, self.bounds, layer, self.step)
        current["epoch"] = self.frame["epoch"] if self.frame else 0.0
        if self.frame is None:
            self.frame = current
        return current
