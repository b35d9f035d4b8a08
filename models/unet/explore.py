"""What the U-Net page runs: a person's image made into the model's input, a segmentation with its
confidence and feature maps, what the skip connections carry (held-out Dice with some of them
zeroed), and the fine-tuning job that teaches a shipped U-Net a new shape kind or a noisier world."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from PIL import Image

from models.unet import UNet, as_tensors, dice_iou, confusion, evaluate_segmentation
from zoo import checkpoints
from zoo.data import shapes
from zoo.devices import pick_device
from zoo.training.loop import make_optimizer, train_steps

SKIP_EVAL_SCENES = 200
"""held-out scenes the page measures a zeroed skip connection on (the card uses all 500)"""
UPLOAD_RANGE = (0.2, 0.8)
"""an upload's 1st and 99th brightness percentiles are stretched to these, the range of the training scenes"""


@dataclass
class Segmentation:
    """Everything the page shows about one image."""
    labels: np.ndarray
    """(H, W) the predicted class of each pixel"""
    confidence: np.ndarray
    """(H, W) the probability the model gives that class"""
    encoder: list[np.ndarray]
    """each encoder level's maps (C, h, w), full resolution first, the bottleneck last"""
    decoder: list[np.ndarray]
    """each decoder level's maps (C, h, w), coarsest first"""


@torch.no_grad()
def segment_image(model: UNet, image: np.ndarray, skips: bool | Sequence[bool] = True) -> Segmentation:
    """Segment one float (H, W) image in [0, 1] and keep the feature maps on the way."""
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))[None, None].to(device)
    trace = model.trace(x, skips)
    confidence, labels = torch.softmax(trace.logits.float(), dim=1).max(dim=1)
    as_numpy = lambda maps: [m[0].float().cpu().numpy() for m in maps]
    return Segmentation(labels[0].cpu().numpy(), confidence[0].cpu().numpy(), as_numpy(trace.encoder),
                        as_numpy(trace.decoder))


def scene_dice(labels: np.ndarray, mask: np.ndarray, n_classes: int) -> np.ndarray:
    """Dice of every class on one scene (NaN for a class neither there nor predicted)."""
    return dice_iou(confusion(torch.from_numpy(labels), torch.from_numpy(mask), n_classes))[0]


def upload_to_input(image: Image.Image, name: str, size: int = shapes.DEFAULT_SIZE) -> tuple[np.ndarray, str]:
    """An uploaded picture (as `zoo.uploads.load_image` returns it: RGB or L) as the model's float (size, size)
    greyscale input: centre square cropped, shrunk, contrast stretched to the training scenes' range;
    and a sentence that says what was done."""
    grey = image.convert("L")
    width, height = grey.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = grey.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
    x = np.asarray(square, dtype=np.float32) / 255
    low, high = np.percentile(x, [1, 99])
    if high - low > 1e-3:
        x = UPLOAD_RANGE[0] + (x - low) * (UPLOAD_RANGE[1] - UPLOAD_RANGE[0]) / (high - low)
    cropped = f"cropped to its centre {side}x{side}, " if width != height else ""
    note = (f"{name} ({width}x{height}) was {cropped}turned greyscale, resized to the model's {size}x{size} and its "
            "contrast stretched to the range of the training scenes.")
    return np.clip(x, 0, 1).astype(np.float32), note


def skip_flags(zeroed: Sequence[int], depth: int) -> list[bool]:
    """Per-level keep flags (full resolution first) with the 1-based levels in `zeroed` switched off."""
    bad = [level for level in zeroed if not 1 <= level <= depth]
    if bad:
        raise ValueError(f"levels run from 1 to {depth}; got {bad}")
    return [level not in zeroed for level in range(1, depth + 1)]


def skip_dice(model: UNet, zeroed: Sequence[int], classes: Sequence[str], n: int = SKIP_EVAL_SCENES) -> dict[str, Any]:
    """Held-out figures (first `n` scenes) with every skip connection, and with those at `zeroed` zeroed."""
    images, masks = shapes.held_out(n)
    kept = evaluate_segmentation(model, images, masks, classes)
    cut = evaluate_segmentation(model, images, masks, classes, skips=skip_flags(zeroed, model.config.depth))
    return {"with": kept, "without": cut, "drop": kept["mean_dice"] - cut["mean_dice"], "n": n}


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
        if event["step"] % eval_every == 0 or event["step"] == steps:
            event["dice"] = measure()["mean_dice"]
        yield event
    yield {"step": steps, "dice_after": measure()}
    return finetuned_bytes(model, name, classes, noise)
