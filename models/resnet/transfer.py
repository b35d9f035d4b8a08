"""Transfer learning (Yosinski et al. 2014): reuse a shipped classifier's body on the person's
own classes. Feature extraction freezes the body and trains a new linear head on its
`features()`; full fine-tuning also trains the body, ten times more gently than the head.

Works for any shipped classifier with `features(x)`. The job runs in a worker through
`zoo.jobs`; the adapted model travels as safetensors bytes that carry its class names.
"""
from __future__ import annotations

import json
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load as load_safetensors_bytes

from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.devices import pick_device
from zoo.photos import to_fashion_tensor
from zoo.training.image_classifier import predict_proba, split_held_out
from zoo.training.loop import is_last, train_steps
from zoo.uploads import ClassFolders, read_class_folders

MODES = {"features": "Feature extraction (frozen body, new head)",
         "finetune": "Full fine-tuning (body and new head)"}
"""the two ways by their codes, described for a developer; a reader sees them as the page names them (resnet.mode.*)"""
BODY_LR_SHARE = 0.1
"""the body's learning rate as a share of the head's in full fine-tuning: it is already good"""


class TransferNet(nn.Module):
    """A shipped classifier's body with a new linear head for `n_classes` of the person's classes."""

    def __init__(self, body: nn.Module, n_classes: int, frozen: bool):
        super().__init__()
        self.body = body
        self.frozen = frozen
        body.eval()
        with torch.no_grad():
            n_features = body.features(torch.zeros(1, 1, 28, 28, device=_device(body))).shape[1]
        self.head = nn.Linear(n_features, n_classes).to(_device(body))
        for p in body.parameters():
            p.requires_grad_(not frozen)

    def train(self, mode: bool = True) -> "TransferNet":
        super().train(mode)
        if self.frozen:
            self.body.eval()  # a frozen body keeps its batch-norm statistics and drops no units
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body.features(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self(x), y)


def _device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def class_arrays(folders: ClassFolders) -> tuple[np.ndarray, np.ndarray]:
    """The person's images as uint8 (N, 28, 28) in the network's input form, and their labels."""
    images = np.stack([(to_fashion_tensor(im)[0].numpy() * 255).round().astype(np.uint8) for im in folders.images])
    return images, np.asarray(folders.labels, dtype=np.int64)


def read_class_arrays(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """An uploaded zip of class folders (two images a class at least, so one can be held out) as
    `class_arrays` makes them, and the class names; raises `zoo.uploads.UploadError` when it cannot be used."""
    folders = read_class_folders(data, name, min_per_class=2)
    return (*class_arrays(folders), folders.classes)


def per_class_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, classes: list[str]) -> dict:
    """{class: [correct, total]} on held-out images, and the overall accuracy."""
    predicted = predict_proba(model, images).argmax(1) if len(labels) else labels
    counts = {name: [int(((predicted == labels) & (labels == c)).sum()), int((labels == c).sum())]
              for c, name in enumerate(classes)}
    overall = float((predicted == labels).float().mean()) if len(labels) else float("nan")
    return {"per_class": counts, "accuracy": overall}


def transfer(name: str, images: np.ndarray, labels: np.ndarray, classes: list[str], mode: str = "features",
             lr: float = 3e-3, steps: int = 60, batch_size: int = 32, eval_every: int = 10,
             seed: int = 0) -> Iterator[dict]:
    """Job: adapt shipped classifier NAME to the person's uint8 (N, 28, 28) `images` of
    `classes`; a quarter of each class is held out. Yields {step, loss, accuracy...} and at the
    end the per-class held-out accuracy; returns the adapted model as safetensors bytes."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, not {mode!r}")
    torch.manual_seed(seed)
    device = pick_device()
    body, _ = checkpoints.load(name, device)
    model = TransferNet(body, len(classes), frozen=mode == "features")
    train, held_out = split_held_out(images, labels, seed=seed)
    measure = lambda: per_class_accuracy(model, held_out.floats(), held_out.labels, classes)
    yield {"step": 0, "n_train": len(train), "n_held_out": len(held_out), "classes": list(classes)}
    groups = [{"params": model.head.parameters(), "lr": lr}]
    if mode == "finetune":
        groups.append({"params": body.parameters(), "lr": lr * BODY_LR_SHARE})
    optimizer = torch.optim.AdamW(groups, weight_decay=1e-4)
    batches = fashion_mnist.batches(train, min(batch_size, len(train)), seed)
    for event in train_steps(model, batches, optimizer, steps, transform=fashion_mnist.augment, freeze_norm=True):
        if event["step"] % eval_every == 0 or is_last(event, steps):
            event["accuracy"] = measure()["accuracy"]
        yield event
    yield {"step": steps, "held_out": measure()}
    return adapted_bytes(model, name, classes, mode)


def adapted_bytes(model: TransferNet, base: str, classes: list[str], mode: str) -> bytes:
    """The adapted model as safetensors, with its base checkpoint and class names in the metadata."""
    return checkpoints.state_dict_bytes(model, metadata={"base": base, "classes": json.dumps(classes), "mode": mode})


def load_adapted(payload: bytes, device: torch.device | str | None = None) -> tuple[TransferNet, list[str]]:
    """Rebuild an adapted model (eval mode) and its class names from `adapted_bytes`."""
    meta = checkpoints.read_metadata(payload)
    classes = json.loads(meta["classes"])
    base = meta["base"]
    body = checkpoints.recipe(base).build(checkpoints.read_card(base)["config"])
    body.to(torch.device(device) if device is not None else pick_device())
    model = TransferNet(body, len(classes), frozen=meta.get("mode") == "features")
    model.load_state_dict({k: v.to(_device(model)) for k, v in load_safetensors_bytes(payload).items()})
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval(), classes


def preview(images: np.ndarray, labels: np.ndarray, per_class: int = 4, limit: int = 16
            ) -> tuple[np.ndarray, np.ndarray]:
    """A few images of each class, class by class, as floats in [0, 1], and their labels."""
    chosen = [int(i) for c in np.unique(labels) for i in np.flatnonzero(labels == c)[:per_class]][:limit]
    return images[chosen].astype(np.float32) / 255.0, labels[chosen]
