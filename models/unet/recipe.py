"""How the shipped U-Net is trained and measured (`python -m zoo.train|evaluate`): the per-class
Dice and IoU of held-out scenes; and the page's fine-tuning job, which teaches a private copy a new
shape kind or a noisier world."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from models.unet.model import Skips, UNet, UNetConfig
from zoo import checkpoints, i18n
from zoo.data import shapes
from zoo.devices import pick_device
from zoo.layers.batches import AnalysisBatch
from zoo.training.loop import is_last, make_optimizer, remember, resume, train_steps
from zoo.training.recipe import ModuleRecipe


def confusion(predicted: torch.Tensor, target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Pixel counts (n_classes, n_classes): true class down, predicted across."""
    index = target.reshape(-1).long() * n_classes + predicted.reshape(-1).long()
    return torch.bincount(index, minlength=n_classes ** 2).view(n_classes, n_classes).cpu()


def dice_iou(counts: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class Dice 2TP / (2TP + FP + FN) and IoU TP / (TP + FP + FN) from a confusion matrix;
    NaN for a class that is neither present nor predicted."""
    counts = np.asarray(counts, dtype=np.float64)
    tp = np.diag(counts)
    fp, fn = counts.sum(0) - tp, counts.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return 2 * tp / (2 * tp + fp + fn), tp / (tp + fp + fn)


@torch.no_grad()
def evaluate_segmentation(model: UNet, images: np.ndarray, masks: np.ndarray, classes: Sequence[str],
                          skips: Skips = True, batch_size: int = 100) -> dict[str, Any]:
    """Dice and IoU of every class over all pixels of the held-out (N, H, W) images and masks;
    `mean_dice` and `mean_iou` average the shape classes (background left out), and `n` counts scenes."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    counts = torch.zeros(len(classes), len(classes), dtype=torch.long)
    for i in range(0, len(images), batch_size):
        x = torch.tensor(images[i:i + batch_size])[:, None].to(device)  # a copy: held-out arrays are read-only
        labels, _ = model.segment(x, skips)
        counts += confusion(labels, torch.tensor(masks[i:i + batch_size]).to(device), len(classes))
    model.train(was_training)
    dice, iou = dice_iou(counts)
    metrics: dict[str, Any] = {"mean_dice": float(np.nanmean(dice[1:])), "mean_iou": float(np.nanmean(iou[1:])),
                               "pixel_accuracy": float(np.trace(counts.numpy()) / counts.sum().item())}
    metrics |= {f"dice_{name}": float(d) for name, d in zip(classes, dice)}
    metrics |= {f"iou_{name}": float(j) for name, j in zip(classes, iou)}
    return metrics | {"n": len(images)}


@dataclass
class SegmentationTraining:
    """How the shipped U-Net is trained from scratch on generated scenes."""
    steps: int = 2000
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    n_scenes: int = 8000
    """training scenes drawn once (seeds 0 .. n-1); each batch turns and mirrors them at random"""
    dice_weight: float = 1.0
    """weight of the soft Dice term beside cross-entropy"""
    seed: int = 0
    channels_last: bool = True
    """train in NHWC memory layout (about 10% faster convolutions on CPU); the saved weights are the same"""


@dataclass
class UNetRecipe(ModuleRecipe):
    """The shipped U-Net: its config, how it is trained, and how it is measured."""
    training: SegmentationTraining = field(default_factory=SegmentationTraining)
    dataset: str = "synthetic-shapes"
    kinds: tuple[str, ...] = shapes.BASE_KINDS

    def card_fields(self) -> dict[str, Any]:
        """The classes and the data the card's figures come from."""
        return {"classes": list(shapes.class_names(self.kinds)),
                "data": {"size": shapes.DEFAULT_SIZE, "shapes_per_scene": list(shapes.DEFAULT_SHAPES),
                         "noise": shapes.DEFAULT_NOISE, "train_seeds": [0, self.training.n_scenes - 1],
                         "held_out_seeds": [shapes.HELD_OUT_SEED, shapes.HELD_OUT_SEED + shapes.N_HELD_OUT - 1]}}

    def fit(self, model: UNet, device: torch.device, state: dict[str, Any]) -> Iterator[dict]:
        """Train from `state` (empty for a fresh run); `state` is updated in place to resume."""
        t = self.training
        layout = torch.channels_last if t.channels_last else torch.preserve_format
        model.to(device, memory_format=layout)
        optimizer, scheduler = make_optimizer(model, t.lr, t.weight_decay, t.steps, "onecycle")
        start = resume(state, t.seed, model=model, optimizer=optimizer, scheduler=scheduler)
        images, masks = shapes.scenes(shapes.training_seeds(t.n_scenes), kinds=self.kinds)
        batches = as_tensors(shapes.batches(images, masks, t.batch_size, t.seed, start))
        for event in train_steps(model, batches, optimizer, t.steps, scheduler=scheduler, start_step=start,
                                 transform=lambda x: x.contiguous(memory_format=layout), dice_weight=t.dice_weight):
            remember(state, event["step"], model=model, optimizer=optimizer, scheduler=scheduler)
            event["total"] = t.steps
            yield event

    def evaluate(self, model: UNet, device: torch.device, limit: int | None = None) -> dict[str, Any]:
        """Per-class Dice and IoU on the fixed held-out scenes (the first `limit` of them)."""
        images, masks = shapes.held_out(min(limit or shapes.N_HELD_OUT, shapes.N_HELD_OUT), kinds=self.kinds)
        return evaluate_segmentation(model.to(device), images, masks, shapes.class_names(self.kinds))

    def analysis_batch(self, model: UNet, card: dict[str, Any], size: int, most: int = 128) -> AnalysisBatch:
        """At most `most` held-out scenes (64x64 each, so fewer than the other families' inputs), each coloured
        by the shape kind that covers most of it: the batch of the layer analysis (zoo.layers)."""
        images, masks = shapes.held_out(min(size, most, shapes.N_HELD_OUT), kinds=self.kinds)
        kinds = shapes.display_names(self.kinds)
        cover = np.stack([(masks == k).sum((1, 2)) for k in range(1, len(kinds) + 1)], 1)  # (N, kinds) pixels
        return AnalysisBatch((torch.tensor(images)[:, None],), cover.argmax(1), kinds,
                             i18n.t("unet.analysis_batch", n=len(images)))


def as_tensors(batches: Iterator[tuple[np.ndarray, np.ndarray]]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """numpy (images, masks) batches as the model takes them: float (B, 1, H, W) and long (B, H, W)."""
    for images, masks in batches:
        yield torch.from_numpy(images)[:, None], torch.from_numpy(masks).long()


def with_new_class(model: UNet, margin: float = 1.0) -> UNet:
    """A copy of `model` with one more output class. Old classes keep their weights; the new one starts as
    the average of the shape classes less `margin`, a score that never beats the best old class (an
    average is at most the maximum), so the copy first segments exactly as the original, while the new
    class sits close to winning wherever the model sees some shape: a few steps teach it."""
    grown = type(model)(dataclasses.replace(model.config, n_classes=model.config.n_classes + 1))
    state = model.state_dict()
    weight, bias = state.pop("head.weight"), state.pop("head.bias")
    grown.load_state_dict(state | {"head.weight": torch.cat([weight, weight[1:].mean(0, keepdim=True)]),
                                   "head.bias": torch.cat([bias, bias[1:].mean(0, keepdim=True) - margin])})
    return grown.to(next(model.parameters()).device)


def finetuned_bytes(model: UNet, base: str, classes: Sequence[str], noise: float) -> bytes:
    """The fine-tuned weights as safetensors, with what rebuilding and using them needs in the metadata:
    the shipped checkpoint it started from, its config, its class names and the noise it was trained at."""
    return checkpoints.state_dict_bytes(model, metadata={"base": base, "config": json.dumps(dataclasses.asdict(model.config)),
                                                   "classes": json.dumps(list(classes)), "noise": str(noise)})


def load_finetuned(payload: bytes, device: torch.device | str | None = None) -> tuple[UNet, dict[str, Any]]:
    """Rebuild (eval mode) the U-Net that `finetune_unet` returned, and its metadata (classes, noise)."""
    meta = checkpoints.read_metadata(payload)
    model = checkpoints.recipe(meta["base"]).build(json.loads(meta["config"]))
    model = checkpoints.load_state_bytes(model.to(device or pick_device()), payload).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, {"base": meta["base"], "classes": tuple(json.loads(meta["classes"])), "noise": float(meta["noise"])}


def finetune_unet(name: str, lr: float = 1e-3, steps: int = 60, new_kind: str | None = None,
                  noise: float = shapes.DEFAULT_NOISE, batch_size: int = 16, n_scenes: int = 400,
                  n_held_out: int = 64, eval_every: int = 10, seed: int = 0) -> Iterator[dict]:
    """Job: fine-tune a private copy of shipped U-Net NAME on scenes that hold `new_kind` as a new class
    (one of shapes.EXTRA_KINDS) and/or have pixel noise `noise`. Yields {step, loss} per step, {dice}
    (held-out mean Dice) every `eval_every` steps and the held-out figures before and after;
    returns the fine-tuned weights as safetensors bytes (`finetuned_bytes`, read by `load_finetuned`)."""
    torch.manual_seed(seed)
    device = pick_device()
    model, card = checkpoints.load(name, device)
    kinds = tuple(card["classes"][1:])
    if new_kind is not None:
        if new_kind not in shapes.EXTRA_KINDS:
            raise ValueError(f"the new kind must be one of {', '.join(shapes.EXTRA_KINDS)}, got {new_kind!r}")
        kinds += (new_kind,)
        model = with_new_class(model)
    classes = shapes.class_names(kinds)
    images, masks = shapes.scenes(shapes.training_seeds(n_scenes), noise=noise, kinds=kinds)
    held_images, held_masks = shapes.held_out(n_held_out, noise=noise, kinds=kinds)
    measure = lambda: evaluate_segmentation(model, held_images, held_masks, classes)
    before = measure()
    yield {"step": 0, "dice": before["mean_dice"], "dice_before": before, "classes": list(classes),
           "n_train": n_scenes, "n_held_out": n_held_out}
    optimizer, _ = make_optimizer(model, lr)
    batches = as_tensors(shapes.batches(images, masks, min(batch_size, n_scenes), seed))
    for event in train_steps(model, batches, optimizer, steps):
        if event["step"] % eval_every == 0 or is_last(event, steps):
            event["dice"] = measure()["mean_dice"]
        yield event
    yield {"step": steps, "dice_after": measure()}
    return finetuned_bytes(model, name, classes, noise)


SHIPPED = {"unet-shapes": UNetRecipe(UNet, UNetConfig(), title="U-Net")}
