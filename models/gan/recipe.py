"""How the GANs are trained: the adversarial training loop both share, the recipe of the shipped
DCGAN and the page's fine-tuning job.

A GAN step is not one loss on one model: D takes `d_steps` steps on real and generated
batches, then G takes one against the updated D. So GANs get their own generator of per-step
metrics beside `zoo.training.loop.train_steps`, with the same shape: it yields a small dict a step,
and in a job near its time limit it stops early the same way (`zoo.jobs.deadline`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch

from models.gan.model import DCGAN, DCGANConfig
from zoo import checkpoints, i18n, progress
from zoo.data import fashion_mnist
from zoo.devices import pick_device
from zoo.jobs import deadline
from zoo.layers.batches import AnalysisBatch, held_out_images
from zoo.training import fid
from zoo.training.loop import is_last, remember, resume
from zoo.training.recipe import ModuleRecipe


def optimizers(model: torch.nn.Module, g_lr: float, d_lr: float, betas=(0.5, 0.999)
               ) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Adam for G (with the class embedding) and for D, with Radford et al.'s beta1 = 0.5."""
    d_params = [p for name, p in model.named_parameters() if not name.startswith(("generator", "class_embed"))]
    g_params = [p for name, p in model.named_parameters() if name.startswith(("generator", "class_embed"))]
    return torch.optim.Adam(g_params, lr=g_lr, betas=betas), torch.optim.Adam(d_params, lr=d_lr, betas=betas)


def adversarial_steps(model: torch.nn.Module, batches: Iterator[tuple[torch.Tensor, ...]],
                      g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer, steps: int,
                      d_steps: int = 1, start_step: int = 0) -> Iterator[dict[str, float]]:
    """Steps `start_step+1 .. steps`, each `d_steps` D updates and one G update; yields
    {step, d_loss, g_loss, d_real, d_fake} (D's mean probability that real / generated samples are real).

    `batches` yields (real,) or, for a class-conditional model, (real, labels); G is asked for the same labels."""
    device = next(model.parameters()).device
    for step in range(start_step + 1, steps + 1):
        model.train()  # again each step: the consumer may sample in eval mode in between
        for _ in range(d_steps):
            real, *labels = (t.to(device) for t in next(batches))
            with torch.no_grad():
                fake = model.generate(model.noise(len(real)).to(device), *labels)
            real_scores, fake_scores = model.score(real, *labels), model.score(fake, *labels)
            d_loss = model.discriminator_loss(real_scores, fake_scores)
            d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            d_optimizer.step()
        fake_scores_g = model.score(model.generate(model.noise(len(real)).to(device), *labels), *labels)
        g_loss = model.generator_loss(fake_scores_g)
        g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        g_optimizer.step()
        event = {"step": step, "d_loss": d_loss.item(), "g_loss": g_loss.item(),
                 "d_real": torch.sigmoid(real_scores).mean().item(), "d_fake": torch.sigmoid(fake_scores).mean().item()}
        stopping = deadline.wrap_up(event, step, steps)
        yield event
        if stopping:
            break
    model.eval()


@dataclass
class GANTraining:
    """How the shipped DCGAN is trained from scratch on the 60,000 training images."""
    steps: int = 12_000
    batch_size: int = 64
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    d_steps: int = 1
    seed: int = 0


@dataclass
class DCGANRecipe(ModuleRecipe):
    training: GANTraining = field(default_factory=GANTraining)
    dataset: str = "fashion-mnist"

    def fit(self, model: torch.nn.Module, device: torch.device, state: dict[str, Any]) -> Iterator[dict]:
        t = self.training
        model.to(device)
        g_optimizer, d_optimizer = optimizers(model, t.g_lr, t.d_lr)
        parts = dict(model=model, g_optimizer=g_optimizer, d_optimizer=d_optimizer)
        start = resume(state, t.seed, **parts)
        batches = fashion_mnist.batches(fashion_mnist.load("train"), t.batch_size, t.seed, start * t.d_steps)
        for event in adversarial_steps(model, batches, g_optimizer, d_optimizer, t.steps, t.d_steps, start):
            remember(state, event["step"], **parts)
            event["total"] = t.steps
            yield event

    def sample_images(self, model: torch.nn.Module, n: int, seed: int, device: torch.device) -> np.ndarray:
        """N images, the classes in turn, from noise drawn on the CPU (the same on every device)."""
        generator = torch.Generator().manual_seed(seed)
        labels = torch.arange(n) % model.config.n_classes if model.config.n_classes else None
        chunks = [model.sample(min(1000, n - s), None if labels is None else labels[s:s + 1000], generator).cpu()
                  for s in progress.bar(range(0, n, 1000), "GAN samples", unit="batch")]
        return torch.cat(chunks).squeeze(1).numpy()

    def evaluate(self, model: torch.nn.Module, device: torch.device, limit: int | None = None,
                 samples: int | None = None) -> dict:
        """FID and class coverage of `samples` images (10,000 unless a slice asks fewer, by `samples` or `limit`)."""
        return fid.quality(self.sample_images(model, samples or limit or fid.N_SAMPLES, 0, device))

    def analysis_batch(self, model: torch.nn.Module, card: dict[str, Any], size: int) -> AnalysisBatch:
        """Real test images through the discriminator (`score`), without the labels its last layer would read:
        the batch of the layer analysis (zoo.layers)."""
        images, labels, source = held_out_images(size)
        return AnalysisBatch((images,), labels, tuple(fashion_mnist.class_names()),
                             i18n.t("gan.layers_batch", source=source), call="score")


SHIPPED = {
    "dcgan-fashion": DCGANRecipe(DCGAN, DCGANConfig(), title="DCGAN (class-conditional)"),
}


def finetune_gan(name: str, steps: int, g_lr: float = 2e-4, d_lr: float = 2e-4, d_steps: int = 1,
                 n_train: int = 2000, batch_size: int = 64, sample_every: int = 10, seed: int = 0) -> Iterator[dict]:
    """Job: go on training shipped GAN NAME on `n_train` training images. Yields {step, d_loss,
    g_loss, d_real, d_fake} and, at step 0 and every `sample_every` steps, `samples`: uint8
    (20, 28, 28), two of each class from fixed noise. Returns the weights as safetensors bytes."""
    torch.manual_seed(seed)
    model, _ = checkpoints.load(name, pick_device())
    train, _ = fashion_mnist.subset(n_train, seed=seed)
    z = model.noise(20, torch.Generator().manual_seed(seed))
    labels = torch.arange(20) % model.config.n_classes

    def samples() -> np.ndarray:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters()).device
            images = model.generate(z.to(device), labels.to(device)).squeeze(1).cpu().numpy()
        return (images.clip(0, 1) * 255).round().astype(np.uint8)

    yield {"step": 0, "samples": samples()}
    g_optimizer, d_optimizer = optimizers(model, g_lr, d_lr)
    batches = fashion_mnist.batches(train, min(batch_size, len(train)), seed)
    for event in adversarial_steps(model, batches, g_optimizer, d_optimizer, steps, d_steps):
        if event["step"] % sample_every == 0 or is_last(event, steps):
            event["samples"] = samples()
        yield event
    return checkpoints.state_dict_bytes(model)
