"""What every Fashion-MNIST image classifier (MLP, CNN, ResNet) shares: the recipe that trains
and measures a shipped checkpoint, prediction, evaluation, and the fine-tuning job its page offers.

The job loads its own copy of the shipped checkpoint (the server's shared model never changes),
trains on a Fashion-MNIST subset or the person's labelled images, and returns the new weights
as safetensors bytes for that session alone."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.devices import pick_device
from zoo.training.loop import make_optimizer, remember, resume, train_steps
from zoo.training.recipe import ModuleRecipe
from zoo.photos import to_fashion_tensor
from zoo.uploads import ClassFolders, UploadError


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


def fashion_arrays(folders: ClassFolders) -> tuple[np.ndarray, np.ndarray]:
    """The person's class folders as uint8 (N, 28, 28) images and Fashion-MNIST labels."""
    mapping = {}
    for folder in folders.classes:
        index = fashion_mnist.match_class(folder)
        if index is None:
            raise UploadError(f"Folder '{folder}' is not a Fashion-MNIST class; name folders like: "
                              + ", ".join(fashion_mnist.CLASSES) + ".")
        mapping[folder] = index
    images = np.stack([(to_fashion_tensor(im)[0].numpy() * 255).round().astype(np.uint8) for im in folders.images])
    labels = np.array([mapping[folders.classes[i]] for i in folders.labels], dtype=np.int64)
    return images, labels


def split_held_out(images: np.ndarray, labels: np.ndarray, share: float = 0.25, seed: int = 0
                   ) -> tuple[fashion_mnist.Split, fashion_mnist.Split]:
    """Hold out `share` of each class (at least one image when a class has two or more)."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = rng.permutation(np.nonzero(labels == c)[0])
        if len(members) >= 2:
            held[members[:max(1, int(round(share * len(members))))]] = True
    as_split = lambda mask: fashion_mnist.Split(torch.from_numpy(images[mask]), torch.from_numpy(labels[mask].astype(np.int64)))
    return as_split(~held), as_split(held)


def finetune_classifier(name: str, lr: float, steps: int, images: np.ndarray | None = None,
                        labels: np.ndarray | None = None, n_train: int = 2000, batch_size: int = 64,
                        eval_every: int = 25, seed: int = 0) -> Iterator[dict]:
    """Job: fine-tune shipped classifier NAME on uint8 (N, 28, 28) `images` with `labels`, or
    on `n_train` Fashion-MNIST images when none are given. Yields {step, loss, accuracy...};
    returns the fine-tuned weights as safetensors bytes."""
    torch.manual_seed(seed)
    device = pick_device()
    model, _ = checkpoints.load(name, device)
    if images is None:
        train, held_out = fashion_mnist.subset(n_train, seed=seed)
    else:
        train, held_out = split_held_out(images, labels, seed=seed)
    evaluate = lambda: evaluate_classifier(model, held_out.floats(), held_out.labels)["accuracy"]
    before = evaluate()
    yield {"step": 0, "accuracy": before, "accuracy_before": before, "n_train": len(train), "n_held_out": len(held_out)}
    optimizer, _ = make_optimizer(model, lr)
    batches = fashion_mnist.batches(train, min(batch_size, len(train)), seed)
    for event in train_steps(model, batches, optimizer, steps, transform=fashion_mnist.augment, freeze_norm=True):
        if event["step"] % eval_every == 0 or event["step"] == steps:
            event["accuracy"] = evaluate()
        yield event
    yield {"step": steps, "accuracy_after": evaluate()}
    return checkpoints.state_dict_bytes(model)
