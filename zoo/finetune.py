"""The fine-tuning job every image classifier page offers, run by `zoo.jobs` in a worker.

It loads its own copy of the shipped checkpoint (the server's shared model never changes),
trains on a Fashion-MNIST subset or the person's labelled images, and returns the new
weights as safetensors bytes for that session alone.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from zoo import checkpoints
from zoo.classify import evaluate_classifier
from zoo.data import DataNotFoundError, fashion_mnist
from zoo.devices import pick_device
from zoo.training import make_optimizer, train_steps
from zoo.uploads import ClassFolders, UploadError, to_fashion_tensor


def fashion_subset(n_train: int, n_held_out: int = 500, seed: int = 0) -> tuple[fashion_mnist.Split, fashion_mnist.Split]:
    """`n_train` random training images and the first `n_held_out` test images.

    Without the dataset installed, the shipped 100-image sample is split 70 / 30 instead.
    """
    try:
        train, test = fashion_mnist.load("train"), fashion_mnist.load("test")
    except DataNotFoundError:
        sample = fashion_mnist.load_sample()
        train = fashion_mnist.Split(sample.images[:70], sample.labels[:70])
        return train, fashion_mnist.Split(sample.images[70:], sample.labels[70:])
    chosen = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n_train]
    return (fashion_mnist.Split(train.images[chosen], train.labels[chosen]),
            fashion_mnist.Split(test.images[:n_held_out], test.labels[:n_held_out]))


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
        train, held_out = fashion_subset(n_train, seed=seed)
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
