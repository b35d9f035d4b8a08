"""What the U-Net page computes: a person's image made into the model's input, a segmentation with
its confidence and feature maps, and what the skip connections carry (held-out Dice with some of
them zeroed)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image

from models.unet.model import UNet
from models.unet.recipe import confusion, dice_iou, evaluate_segmentation
from zoo.data import shapes
from zoo.i18n import t
from zoo.uploads import load_image

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


def read_upload(data: bytes, name: str, size: int = shapes.DEFAULT_SIZE, language: str | None = None
                ) -> tuple[np.ndarray, str]:
    """An uploaded image file as `upload_to_input` makes it; raises `zoo.uploads.UploadError` when it cannot be read.
    `language` only keys a cache of it (`zoo.ui.from_upload`): the sentence is in the language `t` speaks."""
    return upload_to_input(load_image(data, name), name, size)


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
    note = t("unet.upload.note_cropped" if width != height else "unet.upload.note", name=name, size=size)
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
