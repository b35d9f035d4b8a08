"""What every Fashion-MNIST image classifier (MLP, CNN, ResNet) shares: the recipe that
trains and measures a shipped checkpoint, prediction, evaluation and a look inside
(saliency: Simonyan et al. 2013; Grad-CAM: Selvaraju et al. 2017)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from zoo.data import fashion_mnist
from zoo.recipe import ModuleRecipe
from zoo.training import make_optimizer, remember, resume, train_steps


@dataclass
class ClassifierTraining:
    """How a shipped classifier is trained from scratch on the full training split."""
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    augment: bool = True
    """random 2-pixel shifts and horizontal flips"""
    seed: int = 0
    channels_last: bool = False
    """train in NHWC memory layout (faster convolutions on some CPUs); the saved weights are the same"""


@dataclass
class ImageClassifierRecipe(ModuleRecipe):
    """A Fashion-MNIST classifier: model class, its config, and how it is trained."""
    training: ClassifierTraining = field(default_factory=ClassifierTraining)
    dataset: str = "fashion-mnist"

    def total_steps(self) -> int:
        return self.training.epochs * (60000 // self.training.batch_size)

    def fit(self, model: torch.nn.Module, device: torch.device, state: dict[str, Any]) -> Iterator[dict]:
        """Train from `state` (empty for a fresh run); `state` is updated in place to resume."""
        t = self.training
        steps = self.total_steps()
        model.to(device, memory_format=torch.channels_last if t.channels_last else torch.preserve_format)
        optimizer, scheduler = make_optimizer(model, t.lr, t.weight_decay, steps, "onecycle")
        start = resume(state, t.seed, model=model, optimizer=optimizer, scheduler=scheduler)
        batches = fashion_mnist.batches(fashion_mnist.load("train"), t.batch_size, t.seed, start)
        transform = fashion_mnist.augment if t.augment else None
        if t.channels_last:
            transform = partial(_channels_last, augment=transform)
        for event in train_steps(model, batches, optimizer, steps, scheduler=scheduler, start_step=start,
                                 transform=transform, label_smoothing=t.label_smoothing):
            remember(state, event["step"], model=model, optimizer=optimizer, scheduler=scheduler)
            event["total"] = steps
            yield event

    def evaluate(self, model: torch.nn.Module, device: torch.device, limit: int | None = None) -> dict[str, float]:
        test = fashion_mnist.load("test")
        x, y = test.floats(), test.labels
        if limit:
            x, y = x[:limit], y[:limit]
        return evaluate_classifier(model, x, y, device)


def _channels_last(x: torch.Tensor, augment: Callable[[torch.Tensor], torch.Tensor] | None) -> torch.Tensor:
    return (x if augment is None else augment(x)).contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def predict_proba(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities (N, C) for float images (N, 1, 28, 28) in [0, 1]."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = [F.softmax(model(images[i:i + batch_size].to(device)).float(), dim=1).cpu()
           for i in range(0, len(images), batch_size)]
    model.train(was_training)
    return torch.cat(out)


def evaluate_classifier(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
                        device: torch.device | None = None, n_classes: int = 10) -> dict[str, Any]:
    """Accuracy, mean cross-entropy and the confusion matrix (true x predicted) on held-out images."""
    if device is not None:
        model.to(device)
    probs = predict_proba(model, images)
    predicted = probs.argmax(1)
    nll = F.nll_loss(probs.clamp_min(1e-12).log(), labels).item()
    confusion = torch.bincount(labels * n_classes + predicted, minlength=n_classes ** 2).view(n_classes, n_classes)
    return {"accuracy": (predicted == labels).float().mean().item(), "loss": nll, "n": len(labels),
            "confusion": confusion.tolist()}


@dataclass
class Inspection:
    """Everything a page shows about one prediction."""
    probs: np.ndarray
    """(C,) class probabilities"""
    feature_maps: list[np.ndarray]
    """per conv layer (channels, H, W); empty for models without convolutions"""
    saliency: np.ndarray
    """(28, 28) |d logit / d pixel| in [0, 1]"""
    grad_cam: np.ndarray | None
    """(28, 28) Grad-CAM at the last conv layer in [0, 1], if the model has one"""


def inspect_image(model: torch.nn.Module, image: torch.Tensor) -> Inspection:
    """Predict one image (1, 28, 28) and look inside: feature maps, saliency, Grad-CAM.

    Uses no hooks, so a model shared by many sessions can be inspected concurrently.
    """
    device = next(model.parameters()).device
    x = image.unsqueeze(0).to(device).requires_grad_(True)
    has_maps = hasattr(model, "feature_maps")
    with torch.enable_grad():
        if has_maps:
            maps = model.feature_maps(x)
            maps[-1].retain_grad()
            logits = model.head_from_map(maps[-1])
        else:
            maps, logits = [], model(x)
        target = int(logits.argmax(1))
        logits[0, target].backward()
    probs = F.softmax(logits.detach().float(), dim=1)[0].cpu().numpy()
    saliency = x.grad.abs()[0, 0].cpu()
    cam = None
    if has_maps:
        last = maps[-1]
        weights = last.grad.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * last).sum(1, keepdim=True)).detach()
        cam = F.interpolate(cam, size=image.shape[-2:], mode="bilinear", align_corners=False)[0, 0].cpu()
        cam = (cam / cam.max().clamp_min(1e-12)).numpy()
    return Inspection(probs, [m.detach()[0].cpu().numpy() for m in maps],
                      (saliency / saliency.max().clamp_min(1e-12)).numpy(), cam)
