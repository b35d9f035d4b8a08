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

from zoo import checkpoints, devices
from zoo.data import fashion_mnist
from zoo.data.errors import DataNotFoundError
from zoo.devices import pick_device
from zoo.i18n import t
from zoo.training.finetune import BestWeights, mixed_batches, rehearsal_rows
from zoo.training.loop import is_last, make_optimizer, remember, resume, train_steps
from zoo.training.recipe import ModuleRecipe
from zoo.training.weight_histograms import WeightHistograms
from zoo.photos import to_fashion_tensor
from zoo.uploads import ClassFolders, UploadError


VALIDATION_IMAGES = 1000
"""the last test images, which choose the weights a fine-tuning run on Fashion-MNIST keeps"""
WORSE_ACCURACY = 0.002
"""the smallest drop in accuracy a fine-tuning run reports as the model getting worse (4 of 2,000 images)"""
REHEARSAL = 0.5
"""the share of each batch taken from Fashion-MNIST when fine-tuning on the person's images, so the model keeps it"""
MIN_OWN_IMAGES = 4
"""the fewest images of each class a fine-tuning run on the person's images accepts (`own_pieces`)"""


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
def predict_proba(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """Class probabilities (N, C) for float images (N, 1, 28, 28) in [0, 1], `batch_size` at a time (the CNN
    read 2,000 test images in 2.1 s at 100 a batch, 3.9 s at 1,000, one CPU thread: the activations fit the cache),
    through `devices.inference_copy`."""
    device = next(model.parameters()).device
    frozen = devices.inference_copy(model)
    return torch.cat([F.softmax(frozen(images[i:i + batch_size].to(device)).float(), dim=1).cpu()
                      for i in range(0, len(images), batch_size)])


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
            raise UploadError(t("image_classifier.not_a_class", folder=folder,
                                classes=", ".join(f"`{name}`" for name in fashion_mnist.CLASSES)))
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


def fashion_pieces(n_train: int, n_test: int, seed: int = 0
                   ) -> tuple[fashion_mnist.Split, fashion_mnist.Split, fashion_mnist.Split]:
    """`n_train` random training images, the last VALIDATION_IMAGES test images (they choose the weights
    a fine-tuning run keeps) and the first `n_test` (they measure it). The shipped model learned from every
    training image, so only test images are new to it. Without the dataset, the shipped sample split 60/20/20."""
    try:
        train, test = fashion_mnist.load("train"), fashion_mnist.load("test")
    except DataNotFoundError:
        sample = fashion_mnist.load_sample()
        piece = lambda a, b: fashion_mnist.Split(sample.images[a:b], sample.labels[a:b])
        return piece(0, 60), piece(80, 100), piece(60, 80)
    chosen = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:n_train]
    n_test = min(n_test, len(test) - VALIDATION_IMAGES)
    return (fashion_mnist.Split(train.images[chosen], train.labels[chosen]),
            fashion_mnist.Split(test.images[-VALIDATION_IMAGES:], test.labels[-VALIDATION_IMAGES:]),
            fashion_mnist.Split(test.images[:n_test], test.labels[:n_test]))


def own_images_problem(labels: np.ndarray) -> str | None:
    """Why the person's labelled images are too few to fine-tune on (`own_pieces`), or None."""
    counts = np.bincount(labels, minlength=len(fashion_mnist.CLASSES))
    few = [c for c in np.unique(labels) if counts[c] < MIN_OWN_IMAGES]
    if few:
        return t("image_classifier.too_few_images", min_images=MIN_OWN_IMAGES,
                 label=fashion_mnist.class_names()[few[0]], count=int(counts[few[0]]))
    return None


def own_pieces(images: np.ndarray, labels: np.ndarray, seed: int = 0
               ) -> tuple[fashion_mnist.Split, fashion_mnist.Split, fashion_mnist.Split]:
    """The person's images cut, class by class, into training images, a validation piece that chooses
    the weights a fine-tuning run keeps, and a held-out piece that measures it (about 60/20/20)."""
    if problem := own_images_problem(labels):
        raise ValueError(problem)
    train, rest = split_held_out(images, labels, share=0.4, seed=seed)
    held_out, validation = split_held_out(rest.images.numpy(), rest.labels.numpy(), share=0.5, seed=seed)
    return train, validation, held_out


def original_training_images() -> fashion_mnist.Split:
    """What a fine-tuning run on the person's images rehearses: the training split, or the shipped sample."""
    try:
        return fashion_mnist.load("train")
    except DataNotFoundError:
        return fashion_mnist.load_sample()


def finetune_classifier(name: str, lr: float, steps: int, images: np.ndarray | None = None,
                        labels: np.ndarray | None = None, n_train: int = 2000, n_test: int = 2000,
                        batch_size: int = 64, rehearsal: float = REHEARSAL, eval_every: int = 25,
                        patience: int | None = 3, seed: int = 0) -> Iterator[dict]:
    """Job: fine-tune shipped classifier NAME as its recipe trained it, on uint8 (N, 28, 28) `images` with `labels`
    (`own_pieces`, a `rehearsal` share of each batch Fashion-MNIST) or on `n_train` Fashion-MNIST images
    (`fashion_pieces`). The validation loss every `eval_every` steps chooses the weights kept (`BestWeights`);
    accuracy before and after is measured on images nothing chose on, `warnings` saying what got worse and why."""
    torch.manual_seed(seed)
    device = pick_device()
    model, _ = checkpoints.load(name, device)
    recipe = checkpoints.recipe(name).training
    if images is None:
        train, validation, test = fashion_pieces(n_train, n_test, seed)
        measured_on, rehearsed = {"test": test}, None
    else:
        train, validation, held_out = own_pieces(images, labels, seed)
        measured_on = {"yours": held_out, "original": fashion_pieces(0, n_test)[2]}
        rehearsed = original_training_images()
    own_rows, original_rows = rehearsal_rows(batch_size, rehearsal if rehearsed is not None else 0.0)

    def accuracy(split: fashion_mnist.Split) -> dict[str, Any]:
        return evaluate_classifier(model, split.floats(), split.labels)

    def measure() -> dict[str, float]:
        return {key: accuracy(split)["accuracy"] for key, split in measured_on.items()}

    before = measure()
    start = accuracy(validation)
    best = BestWeights(model, -start["loss"], patience)
    histograms = WeightHistograms(model)
    first = next(iter(measured_on))
    sizes = {key: len(split) for key, split in measured_on.items()}
    yield {"step": 0, "accuracy": start["accuracy"], "validation_loss": start["loss"], "accuracy_before": before[first],
           "before": before, "n_train": len(train), "n_validation": len(validation), "sizes": sizes,
           "weight_histograms": histograms()}
    optimizer, _ = make_optimizer(model, lr, recipe.weight_decay)
    batches = mixed_batches(fashion_mnist.batches(train, min(own_rows, len(train)), seed),
                            fashion_mnist.batches(rehearsed, original_rows, seed) if original_rows else None)
    augment = fashion_mnist.augment if recipe.augment else None
    step = 0
    for event in train_steps(model, batches, optimizer, steps, transform=augment, freeze_norm=True,
                             label_smoothing=recipe.label_smoothing):
        step = event["step"]
        if step % eval_every == 0 or is_last(event, steps):
            measured = accuracy(validation)
            event["accuracy"], event["validation_loss"] = measured["accuracy"], measured["loss"]
            best.update(step, -measured["loss"])
            event["weight_histograms"] = histograms()
        yield event
        if best.should_stop:
            break
    best.restore()
    after = measure()
    piece = t(f"image_classifier.piece.{'fashion' if images is None else 'yours'}", n=len(validation))
    yield {"step": step, "accuracy_after": after[first], "before": before, "after": after, "kept_step": best.best_step,
           "summary": best.summary(step, steps, piece),
           "warnings": finetune_warnings(before, after, len(train), sizes, original_rows / batch_size)}
    return checkpoints.state_dict_bytes(model)


def finetune_warnings(before: dict[str, float], after: dict[str, float], n_train: int, sizes: dict[str, int],
                      rehearsal: float) -> list[str]:
    """A plain sentence in the reader's language for each accuracy (measured on `sizes` images) a fine-tuning run
    lowered by WORSE_ACCURACY or more, and why: `test` (a Fashion-MNIST run), `yours` (the person's held-out images)
    and `original` (Fashion-MNIST test images, after a run on the person's)."""
    said = []
    for key in before:
        drop = before[key] - after[key]
        if drop < WORSE_ACCURACY:
            continue
        case = "original_rehearsed" if key == "original" and rehearsal else key
        said.append(t(f"image_classifier.{'worse_little' if drop < 0.01 else 'worse'}.{case}", n=sizes.get(key, 0),
                      before=before[key], after=after[key], n_train=n_train, rehearsal=rehearsal))
    return said
