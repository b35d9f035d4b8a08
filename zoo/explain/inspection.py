"""Where an image classifier looks for one prediction: its feature maps, saliency (Simonyan et al.
2013) and Grad-CAM (Selvaraju et al. 2017) from one backward pass, without hooks, so a shared model
can be inspected by many sessions at once. The classifier pages' views; `attributions` has every method."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from zoo.explain.attributions import cam_from


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
        cam = cam_from(maps[-1], maps[-1].grad, tuple(image.shape[-2:])).cpu()
        cam = (cam / cam.max().clamp_min(1e-12)).numpy()
    return Inspection(probs, [m.detach()[0].cpu().numpy() for m in maps],
                      (saliency / saliency.max().clamp_min(1e-12)).numpy(), cam)
