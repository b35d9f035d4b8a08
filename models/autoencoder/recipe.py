"""How the shipped autoencoders are trained and measured (`python -m zoo.train|evaluate`), and the
page's fine-tuning job."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch

from models.autoencoder.explore import decode
from models.autoencoder.model import Autoencoder, AutoencoderConfig
from zoo import checkpoints, progress
from zoo.data import fashion_mnist
from zoo.devices import pick_device
from zoo.training import fid
from zoo.training.loop import is_last, make_optimizer, remember, resume, train_steps
from zoo.training.recipe import ModuleRecipe

DENOISING_STD = 0.3
"""the noise level the denoising card is measured at"""


@dataclass
class AutoencoderTraining:
    """How a shipped autoencoder is trained from scratch on the 60,000 training images."""
    epochs: int = 20
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.0
    seed: int = 0


@dataclass
class AutoencoderRecipe(ModuleRecipe):
    training: AutoencoderTraining = field(default_factory=AutoencoderTraining)
    dataset: str = "fashion-mnist"

    def fit(self, model: torch.nn.Module, device: torch.device, state: dict[str, Any]) -> Iterator[dict]:
        t = self.training
        steps = t.epochs * (60000 // t.batch_size)
        model.to(device)
        optimizer, scheduler = make_optimizer(model, t.lr, t.weight_decay, steps, "onecycle")
        start = resume(state, t.seed, model=model, optimizer=optimizer, scheduler=scheduler)
        batches = fashion_mnist.batches(fashion_mnist.load("train"), t.batch_size, t.seed, start)
        for event in train_steps(model, batches, optimizer, steps, scheduler=scheduler, start_step=start):
            remember(state, event["step"], model=model, optimizer=optimizer, scheduler=scheduler)
            event["total"] = steps
            yield event

    def evaluate(self, model: torch.nn.Module, device: torch.device, limit: int | None = None) -> dict[str, float]:
        """Reconstruction error on the test set (per pixel, and in nats per image), and what the
        kind adds: the denoising error, the share of active code units, or the VAE's ELBO."""
        x = fashion_mnist.load("test").floats()[:limit]
        return {**reconstruction_figures(model, x, device), "n": len(x)}


@dataclass
class VAERecipe(AutoencoderRecipe):
    """A VAE also generates: its card adds FID and class coverage of 10,000 samples."""

    def sample_images(self, model: torch.nn.Module, n: int, seed: int, device: torch.device) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        batches = progress.bar(range(0, n, 1000), "VAE samples", unit="batch")
        return torch.cat([model.sample(min(1000, n - start), generator).cpu()  # the same codes on every device
                          for start in batches]).squeeze(1).numpy()

    def evaluate(self, model: torch.nn.Module, device: torch.device, limit: int | None = None,
                 samples: int | None = None) -> dict:
        """The reconstruction figures on the first `limit` test images, and FID and class coverage of
        `samples` images (10,000 unless a slice asks fewer, by `samples` or `limit`)."""
        images = self.sample_images(model, samples or limit or fid.N_SAMPLES, 0, device)
        return {**super().evaluate(model, device, limit), **fid.quality(images)}


@torch.no_grad()
def reconstruction_figures(model: torch.nn.Module, images: torch.Tensor, device: torch.device) -> dict[str, float]:
    kind, model = model.config.kind, model.to(device).eval()
    generator = torch.Generator().manual_seed(0)
    sums: dict[str, float] = {}
    for start in range(0, len(images), 1000):
        x = images[start:start + 1000]
        add = lambda key, value: sums.__setitem__(key, sums.get(key, 0.0) + float(value) * len(x))
        noise = torch.randn(x.shape, generator=generator)
        x = x.to(device)
        add("reconstruction_mse", (model(x) - x).pow(2).mean())
        add("reconstruction_nats", model.loss(x, sample_z=False)["reconstruction"])
        if kind == "vae":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(start)
                terms = model.loss(x, sample_z=True)
            add("elbo_nats", -(terms["reconstruction"] + terms["kl"]))
            add("kl_nats", terms["kl"])
        if kind == "denoising":
            noisy = (x + DENOISING_STD * noise.to(device)).clamp(0, 1)
            add("noisy_mse", (noisy - x).pow(2).mean())
            add("denoised_mse", (model(noisy) - x).pow(2).mean())
        if kind == "sparse":
            add("active_code_share", (model.encode(x)[0] > 0).float().mean())
    return {key: value / len(images) for key, value in sums.items()}


def finetune_autoencoder(name: str, lr: float, steps: int, beta: float | None = None, n_train: int = 2000,
                         batch_size: int = 64, sample_every: int = 20, seed: int = 0) -> Iterator[dict]:
    """Job: fine-tune shipped autoencoder NAME on `n_train` training images; for a VAE, `beta`
    weighs the KL term. Yields {step, loss, reconstruction, kl} and, every `sample_every`
    steps, `reconstructions` of 8 held-out images (and a VAE's `samples` from 8 fixed codes)
    as uint8 (8, 28, 28). Returns the fine-tuned weights as safetensors bytes."""
    torch.manual_seed(seed)
    model, _ = checkpoints.load(name, pick_device())
    train, held_out = fashion_mnist.subset(n_train, seed=seed)
    shown = held_out.floats()[:8]
    prior = torch.randn(8, model.config.latent, generator=torch.Generator().manual_seed(seed)).numpy()

    def pictures() -> dict:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters()).device
            found = {"reconstructions": _uint8(model(shown.to(device)).squeeze(1).cpu().numpy())}
        if model.config.kind == "vae":
            found["samples"] = _uint8(decode(model, prior))
        return found

    yield {"step": 0, **pictures()}
    optimizer, _ = make_optimizer(model, lr)
    batches = fashion_mnist.batches(train, min(batch_size, len(train)), seed)
    loss_kwargs = {"beta": beta} if beta is not None and model.config.kind == "vae" else {}
    for event in train_steps(model, batches, optimizer, steps, freeze_norm=True, **loss_kwargs):
        if event["step"] % sample_every == 0 or is_last(event, steps):
            event.update(pictures())
        yield event
    return checkpoints.state_dict_bytes(model)


def _uint8(images: np.ndarray) -> np.ndarray:
    return (images.clip(0, 1) * 255).round().astype(np.uint8)


SHIPPED = {
    "ae-fashion": AutoencoderRecipe(Autoencoder, AutoencoderConfig(kind="ae"), title="Autoencoder"),
    "dae-fashion": AutoencoderRecipe(Autoencoder, AutoencoderConfig(kind="denoising", noise=0.5),
                                     title="Denoising autoencoder"),
    "sae-fashion": AutoencoderRecipe(Autoencoder, AutoencoderConfig(kind="sparse", latent=64, l1=0.5),
                                     title="Sparse autoencoder", training=AutoencoderTraining(epochs=10)),
    "vae-fashion": VAERecipe(Autoencoder, AutoencoderConfig(kind="vae"), title="VAE"),
}
