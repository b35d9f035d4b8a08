"""What the RNN page computes: a model's states and gates while it reads a text, and how far back
the gradient of its last prediction reaches (as numpy arrays, ready to draw)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.rnn.model import CharRNN


@dataclass
class Inside:
    """One layer of a CharRNN reading a text, as the page shows it: arrays (units, characters)."""
    hidden: np.ndarray
    cell: np.ndarray | None
    """the LSTM's cell state (None for the other cells)"""
    gates: dict[str, np.ndarray]
    lively: np.ndarray
    """unit ids, those whose hidden state varies most over the text first"""


def look_inside(model: CharRNN, ids: torch.Tensor, layer: int = -1) -> Inside:
    """`model.trace` of (T,) ids for one layer, as numpy arrays (units, characters)."""
    trace = model.trace(ids.to(next(model.parameters()).device))
    as_units = lambda t: t[layer].T.float().cpu().numpy()  # (H, T)
    hidden = as_units(trace.hidden)
    return Inside(hidden=hidden, cell=None if trace.cell is None else as_units(trace.cell),
                  gates={name: as_units(g) for name, g in trace.gates.items()},
                  lively=np.argsort(-hidden.std(axis=1), kind="stable"))


def gradient_flow(model: CharRNN, ids: torch.Tensor) -> np.ndarray:
    """(T - 1,): `model.gradient_through_time` of (T,) ids, from the state just before the last character
    back to the first: how strongly the last prediction's loss reaches each step back."""
    return model.gradient_through_time(ids.to(next(model.parameters()).device)).cpu().numpy()[::-1]
