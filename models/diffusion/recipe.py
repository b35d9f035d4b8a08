"""How the shipped DDPM is trained (with an exponential moving average of its weights) and measured
against the number of DDIM steps (`python -m zoo.train|evaluate|sample`), and the page's
fine-tuning job."""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Iterator

import numpy as np
import torch

from models.diffusion.model import Diffusion, DiffusionConfig
from zoo import checkpoints, i18n, progress
from zoo.data import fashion_mnist
from zoo.devices import pick_device
from zoo.layers.batches import AnalysisBatch, held_out_images
from zoo.training import fid
from zoo.training.loop import clip_gradients, is_last, make_optimizer, remember, resume, train_steps
from zoo.training.recipe import ModuleRecipe

CURVE_STEPS = (10, 25, 50, 100)
"""DDIM step counts the card measures FID and time at"""
CURVE_SHARE = 10
"""each point of that curve samples a tenth as many images as the headline FID (1,000 of 10,000)"""
CHUNK = 500
"""images sampled at once"""


@dataclass
class DiffusionTraining:
    """How the shipped model is trained from scratch on the 60,000 training images (a GPU's job: on
    2 CPU cores a step takes about 2.5 s; the card records the run)."""
    steps: int = 9000
    batch_size: int = 128
    lr: float = 1e-3
    """peak of a one-cycle schedule"""
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    """the global gradient norm is clipped to this before every step"""
    ema_decay: float = 0.999
    """the shipped weights are this moving average of the trained ones (warmed up over the first steps)"""
    seed: int = 0


@dataclass
class DiffusionSampling:
    """How the card's samples are drawn (and `python -m zoo.sample`'s)."""
    steps: int = 50
    """DDIM steps (eta = 0)"""
    guidance: float = 1.0
    """classifier-free guidance scale: 1 is plainly class-conditional, one network pass a step"""


@dataclass
class DiffusionRecipe(ModuleRecipe):
    training: DiffusionTraining = field(default_factory=DiffusionTraining)
    sampling: DiffusionSampling = field(default_factory=DiffusionSampling)
    dataset: str = "fashion-mnist"

    def fit(self, model: torch.nn.Module, device: torch.device, state: dict[str, Any]) -> Iterator[dict]:
        """Train a copy (`online`); `model` follows it as its moving average, so it is always
        the model to save, whenever the caller stops."""
        t = self.training
        model.to(device)
        online = copy.deepcopy(model)
        optimizer, scheduler = make_optimizer(online, t.lr, t.weight_decay, t.steps, "onecycle")
        clip_gradients(optimizer, t.grad_clip)
        parts = dict(model=model, online=online, optimizer=optimizer, scheduler=scheduler)
        start = resume(state, t.seed, **parts)
        batches = fashion_mnist.batches(fashion_mnist.load("train"), t.batch_size, t.seed, start)
        for event in train_steps(online, batches, optimizer, t.steps, scheduler=scheduler, start_step=start):
            step = event["step"]
            ema_update(model, online, min(t.ema_decay, (1 + step) / (10 + step)))
            remember(state, step, **parts)
            event["total"] = t.steps
            yield event

    def card_fields(self) -> dict:
        return {"sampling": asdict(self.sampling)}

    def sample_images(self, model: torch.nn.Module, n: int, seed: int, device: torch.device,
                      steps: int | None = None) -> np.ndarray:
        """N images (N, 28, 28) in [0, 1], the classes in turn, from noise drawn on the CPU (the
        same on every device), with the card's sampler (or `steps` DDIM steps)."""
        generator = torch.Generator().manual_seed(seed)
        labels = torch.arange(n) % model.config.n_classes
        model = model.to(device).eval()
        chunks = [model.sample(len(chunk), chunk, steps or self.sampling.steps, self.sampling.guidance,
                               generator=generator).cpu()
                  for chunk in progress.bar(labels.split(CHUNK), "diffusion samples", unit="batch")]
        return torch.cat(chunks).squeeze(1).numpy()

    def evaluate(self, model: torch.nn.Module, device: torch.device, limit: int | None = None,
                 samples: int | None = None) -> dict:
        """FID and class coverage of `samples` images (10,000 unless a slice asks fewer, by `samples`
        or `limit`), and, on a tenth as many, FID and seconds per image against the number of DDIM
        steps (the whole run only: a slice re-measures the headline figures)."""
        n = samples or limit or fid.N_SAMPLES
        figures = fid.quality(self.sample_images(model, n, 0, device))
        if n < fid.N_SAMPLES:
            return figures
        curve_n = max(n // CURVE_SHARE, 2)  # FID needs two images
        curve = {}
        for steps in CURVE_STEPS:
            started = time.perf_counter()
            images = self.sample_images(model, curve_n, 0, device, steps)
            seconds = (time.perf_counter() - started) / curve_n
            curve[str(steps)] = {"fid": fid.fid(images), "seconds_per_image": seconds}
        return {**figures, "ddim_steps": curve, "ddim_steps_samples": curve_n}

    @torch.no_grad()
    def analysis_batch(self, model: torch.nn.Module, card: dict[str, Any], size: int, step: int = 250,
                       most: int = 128) -> AnalysisBatch:
        """At most `most` test images noised to `step` (most of the signal left), through the U-Net eps_theta
        with the null label, so that the maps show what it reads from the image, not from the class it is
        told: the batch of the layer analysis (zoo.layers)."""
        images, labels, source = held_out_images(min(size, most))
        device = model.alpha_bar.device
        t = torch.full((len(images),), step, dtype=torch.long, device=device)
        noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(0)).to(device)
        x_t = model.q_sample(2 * images.to(device) - 1, t, noise)
        return AnalysisBatch((x_t, t, torch.full_like(t, model.null_label)), labels, tuple(fashion_mnist.class_names()),
                             i18n.t("diffusion.layers_batch", source=source, step=step, timesteps=model.config.timesteps),
                             call="net")


@torch.no_grad()
def ema_update(average: torch.nn.Module, online: torch.nn.Module, decay: float) -> None:
    for a, o in zip(average.parameters(), online.parameters()):
        a.lerp_(o, 1 - decay)


def finetune_diffusion(name: str, lr: float, steps: int, label: int, images: np.ndarray | None = None,
                       n_train: int = 2000, batch_size: int = 32, sample_every: int = 25, sample_steps: int = 20,
                       guidance: float = 2.0, seed: int = 0) -> Iterator[dict]:
    """Job: fine-tune shipped model NAME on uint8 (N, 28, 28) `images` taught as class `label`,
    or on `n_train` training images of that class. Yields {step, loss} and, every `sample_every`
    steps, `samples` of the class from 8 fixed noises as uint8 (8, 28, 28). Returns the weights
    as safetensors bytes."""
    torch.manual_seed(seed)
    model, _ = checkpoints.load(name, pick_device())
    if images is None:
        train = class_images(label, n_train, seed)
    else:
        train = fashion_mnist.Split(torch.from_numpy(images), torch.full((len(images),), label, dtype=torch.long))

    def pictures() -> dict:
        model.eval()
        generator = torch.Generator().manual_seed(seed)
        drawn = model.sample(8, torch.full((8,), label), sample_steps, guidance, generator=generator)
        return {"samples": (drawn.squeeze(1).cpu().numpy() * 255).round().astype(np.uint8)}

    yield {"step": 0, "n_train": len(train), **pictures()}
    optimizer, _ = make_optimizer(model, lr)
    batches = fashion_mnist.batches(train, min(batch_size, len(train)), seed)
    shift = partial(fashion_mnist.augment, flip=False)  # shoes all face left in Fashion-MNIST
    for event in train_steps(model, batches, optimizer, steps, transform=shift):
        if event["step"] % sample_every == 0 or is_last(event, steps):
            event.update(pictures())
        yield event
    return checkpoints.state_dict_bytes(model)


def class_images(label: int, n: int, seed: int = 0) -> fashion_mnist.Split:
    """Up to N random training images of one class (of the shipped sample without the dataset)."""
    split = fashion_mnist.load("train") if fashion_mnist.is_installed() else fashion_mnist.load_sample()
    members = torch.nonzero(split.labels == label)[:, 0]
    chosen = members[torch.randperm(len(members), generator=torch.Generator().manual_seed(seed))[:n]]
    return fashion_mnist.Split(split.images[chosen], split.labels[chosen])


SHIPPED = {
    "diffusion-fashion": DiffusionRecipe(Diffusion, DiffusionConfig(), title="DDPM / DDIM (class-conditional)"),
}
