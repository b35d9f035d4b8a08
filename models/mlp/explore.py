"""What the MLP page shows of one garment passing through the network: its hidden activations and
the first-layer units it excites most, with their weights drawn as 28x28 templates."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.mlp.model import FashionMLP


@dataclass
class MLPInside:
    """What a page shows about one image passing through a FashionMLP."""
    activations: list[np.ndarray]
    """per hidden layer, its units' outputs in rows of 32 (zero-padded), scaled so the strongest is 1"""
    top_units: np.ndarray
    """(k,) the first-layer units this image excites most, strongest first"""
    top_values: np.ndarray
    """(k,) their outputs"""
    templates: np.ndarray
    """(k, 28, 28) their weights: the pattern each one responds to"""


@torch.no_grad()
def look_inside(model: FashionMLP, image: torch.Tensor, k: int = 16) -> MLPInside:
    """Hidden activations for one image (1, 28, 28) and the first-layer units it excites most."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    layers = [h[0].float().cpu() for h in model.hidden_activations(image.unsqueeze(0).to(device))]
    model.train(was_training)
    top = torch.argsort(layers[0], descending=True)[:k]
    rows = lambda h: F.pad(h / h.abs().max().clamp_min(1e-12), (0, -len(h) % 32)).view(-1, 32).numpy()
    return MLPInside([rows(h) for h in layers], top.numpy(), layers[0][top].numpy(),
                     model.templates()[top.to(device)].float().cpu().numpy())
