"""Histograms of a model's weights during training, as the Runs page draws them over steps (TensorBoard's
histograms): per layer, BINS fixed bins over a range set by its weights at the start, so that one layer's
histograms line up step after step. A few KB an event: the job runner's run log keeps them
(`zoo.jobs.run_log.WEIGHT_HISTOGRAMS`)."""
from __future__ import annotations

import torch

BINS = 32
"""bins per layer: 32 counts of 5 layers are about 1 KB pickled"""
MARGIN = 0.25
"""the range reaches this share of the starting weights' largest size beyond it on each side, for weights that grow"""


class WeightHistograms:
    """The histograms of `model`'s weight matrices and kernels (biases and norms left out), their ranges fixed now."""

    def __init__(self, model: torch.nn.Module, bins: int = BINS) -> None:
        self.bins = bins
        self.layers = {name: weight for name, weight in model.named_parameters() if weight.dim() > 1}
        self.ranges = {}
        for name, weight in self.layers.items():
            size = float(weight.detach().abs().max()) * (1 + MARGIN) or 1.0
            self.ranges[name] = (-size, size)

    @torch.no_grad()
    def __call__(self) -> dict[str, dict]:
        """{layer: {"range": (low, high), "counts": [int] * bins}}: weights beyond the range count in the end bins."""
        entry = {}
        for name, weight in self.layers.items():
            low, high = self.ranges[name]
            flat = weight.detach().float().flatten().clamp(low, high)
            counts = torch.histc(flat, self.bins, low, high)
            entry[name] = {"range": (low, high), "counts": [int(c) for c in counts.tolist()]}
        return entry
