"""What each layer of a network does to a batch of its own test data: the weight and activation histograms,
the share of dead and saturated units, and a 2-D map of the layer's activations per input.

A layer is what the batch's forward pass reaches, in the order it reaches it: a module with weights (a
convolution, a linear or recurrent layer, an embedding) together with the norm and activation modules that
take its output next, where the module holding it applies them (as the model's own Sequentials chain them);
any other norm or activation on its own; and the output of each of the model's own blocks (a residual block, a transformer block), where
activations applied as functions inside the block (F.relu) show. The hooks that read them go on a private
copy of the model, never on the shared one that other sessions run at the same time.
"""
from __future__ import annotations

import copy
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import parametrize

from zoo import checkpoints
from zoo.i18n import t
from zoo.layers.batches import BATCH_SIZE, AnalysisBatch, batch_for
from zoo.projection import principal_axes, squared_distances, tsne

BINS = 40
"""bars of every histogram: a fixed count keeps the payload small whatever the layer's size"""
SATURATION_MARGIN = 0.01
"""a tanh output within this of -1 or +1, a sigmoid's within this of 0 or 1, is saturated (its gradient is
below 0.02 of the largest)"""
SATURATED_SHARE = 0.9
"""a unit is saturated when at least this share of its outputs on the batch are"""
MAP_COMPONENTS = 50
"""principal components kept of each layer's per-input vectors: the PCA map's first two, t-SNE's input"""
NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm, nn.RMSNorm)
CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


@dataclass(frozen=True)
class Histogram:
    edges: np.ndarray
    """(BINS + 1,) the bars' edges"""
    counts: np.ndarray
    """int (BINS,) values in each bar"""

    @property
    def total(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class LayerReport:
    """One layer as the batch saw it."""
    name: str
    """the first module's name in the model"""
    kind: str
    """its modules' classes ("Conv2d + BatchNorm2d + ReLU"), or a block's class for the block's output"""
    parameters: int
    weights: Histogram | None
    """every parameter of its first module (None for a block's output or a plain activation)"""
    activations: Histogram | None
    """every value of its output on the batch (None when the output is not one row per input)"""
    units: int
    """channels of a feature map, features of a vector, per position of a sequence"""
    dead_share: float | None
    """units zero on every input of the batch (a ReLU that never fires)"""
    saturated_share: float | None
    """units saturated on most inputs (SATURATION_MARGIN, SATURATED_SHARE); None unless it ends in tanh or sigmoid"""
    components: np.ndarray | None = field(repr=False)
    """float32 (N, <= MAP_COMPONENTS): each input's vector (a feature map's channel means, a sequence's last
    position) on the layer's principal axes; the first two are the PCA map. None when the output is not one
    row per input, or is the same for every input"""
    explained: float | None
    """the share of the vectors' variance the PCA map shows"""
    neighbours_agree: float | None
    """the share of inputs whose nearest other input (by `components`) has the same class: how far the layer
    has pulled the classes apart"""
    block: bool = False
    """the output of one of the model's own blocks (`kind` is the block's class)"""
    call: int = 1
    """which call of the module this is, when the pass reached it more than once"""

    @property
    def shown_name(self) -> str:
        """The layer's name for a reader: the module's, with the call's number when the pass reached it again."""
        return self.name if self.call == 1 else t("layers.layer_name_call", name=self.name, call=self.call)

    @property
    def shown_kind(self) -> str:
        """What the layer is, for a reader: its modules' classes, or "output of <block>" in their language."""
        return t("layers.block_output", block=self.kind) if self.block else self.kind


@dataclass(frozen=True)
class LayerAnalysis:
    checkpoint: str
    description: str
    """what the batch is and what colours the maps"""
    labels: np.ndarray
    classes: tuple[str, ...]
    layers: tuple[LayerReport, ...]
    seconds: float
    """the wall time of the analysis"""


def torch_checkpoints() -> list[str]:
    """The shipped checkpoints that are torch modules (safetensors weights); gensim's word vectors are not."""
    return [name for name in checkpoints.available() if checkpoints.paths(name)[0].suffix == ".safetensors"]


def analyse_checkpoint(name: str, model: torch.nn.Module, size: int = BATCH_SIZE) -> LayerAnalysis:
    """The layers of checkpoint NAME's `model` on `size` inputs of its own data (its recipe's batch); its
    `seconds` count making the batch too."""
    started = time.perf_counter()
    analysis = analyse(model, batch_for(name, model, size), name)
    return replace(analysis, seconds=time.perf_counter() - started)


def analyse(model: torch.nn.Module, batch: AnalysisBatch, checkpoint: str = "") -> LayerAnalysis:
    """Every layer `batch` passes through, read by forward hooks on a private eval-mode copy of `model`
    (the hooks go with the copy; `model` is left as it was)."""
    started = time.perf_counter()
    private = copy.deepcopy(model).eval()
    device = next(private.parameters()).device
    inputs = [x.to(device) if isinstance(x, torch.Tensor) else x for x in batch.inputs]
    labels = np.asarray(batch.labels)
    recorder = _Recorder(labels, batch.sequence)
    handles = [module.register_forward_hook(recorder.hook(name, role)) for name, module, role in _watched(private)]
    try:
        with torch.no_grad():
            getattr(private, batch.call)(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return LayerAnalysis(checkpoint, batch.description, labels, tuple(batch.classes),
                         tuple(recorder.finish()), time.perf_counter() - started)


def nearest_neighbour_agreement(points: np.ndarray, labels: np.ndarray) -> float:
    """The share of rows of `points` (N, D) whose nearest other row has the same label (leave-one-out 1-NN)."""
    distances = squared_distances(points.astype(np.float64))
    np.fill_diagonal(distances, np.inf)
    return float((labels[distances.argmin(1)] == labels).mean())


def evenly_spaced(count: int, most: int) -> list[int]:
    """Up to `most` of the indices 0 .. count - 1, evenly spaced, the first and last included (the last alone
    when `most` is 1): the layers a page shows by default, from the input to the output."""
    if count <= most:
        return list(range(count))
    if most < 2:
        return [count - 1] * most
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def tsne_map(layer: LayerReport, seed: int = 0) -> np.ndarray:
    """(N, 2) t-SNE of the layer's per-input vectors (from their principal components)."""
    return tsne(layer.components.astype(np.float64), seed=seed)


def _role(module: nn.Module) -> str | None:
    """What a module is to the analysis: weighted, norm, activation, block, or None (a container, or a
    module without weights that only reshapes, pools or drops)."""
    if isinstance(module, CONTAINERS):
        return None
    if isinstance(module, NORMS):
        return "norm"
    if type(module).__module__ == nn.modules.activation.__name__ and not isinstance(module, nn.MultiheadAttention):
        return "activation"
    if parametrize.is_parametrized(module) or next(module.parameters(recurse=False), None) is not None:
        return "weighted"
    return "block" if next(module.children(), None) is not None else None


def _watched(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    """(name, module, role) of every module the analysis hooks; inside a weighted module, nothing more."""
    found, units = [], []
    for name, module in model.named_modules():
        if not name or any(name.startswith(unit + ".") for unit in units):
            continue
        role = _role(module)
        if role == "weighted":
            units.append(name)
        if role is not None:
            found.append((name, module, role))
    return found


def _first_tensor(value: Any) -> torch.Tensor | None:
    """A module's output tensor: the first of a tuple (an LSTM's outputs, a block's (x, attention))."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        return next((t for t in map(_first_tensor, value) if t is not None), None)
    return None


def _bounds(module: nn.Module) -> tuple[float, float] | None:
    """The range a saturating activation squashes into: tanh (and recurrent states, which are tanh's), sigmoid."""
    if isinstance(module, nn.Tanh) or isinstance(module, (nn.GRU, nn.LSTM)) \
            or (isinstance(module, nn.RNN) and module.nonlinearity == "tanh"):
        return -1.0, 1.0
    if isinstance(module, nn.Sigmoid):
        return 0.0, 1.0
    return None


def _class_name(module: nn.Module) -> str:
    """The module's class, a parametrized one's original class with its parametrizations: "Linear (SpectralNorm)"."""
    if not parametrize.is_parametrized(module):
        return type(module).__name__
    ways = sorted({type(p).__name__.lstrip("_") for chain in module.parametrizations.values() for p in chain})
    return f"{type(module).__bases__[0].__name__} ({', '.join(ways)})"


def _values(module: nn.Module) -> torch.Tensor:
    """Every parameter of a module as one flat tensor, a parametrized weight as the network uses it
    (after spectral normalisation, say)."""
    effective = list(module.parametrizations) if parametrize.is_parametrized(module) else []
    tensors = [getattr(module, name) for name in effective]
    tensors += [p for name, p in module.named_parameters() if not name.startswith("parametrizations.")]
    return torch.cat([t.detach().float().flatten().cpu() for t in tensors]) if tensors else torch.zeros(0)


def histogram(values: torch.Tensor) -> Histogram | None:
    """BINS bars from the smallest value to the largest (finite values only); None if there are none."""
    values = values.detach().float().flatten()
    if not values.numel():
        return None
    low, high = (bound.item() for bound in torch.aminmax(values))
    if not (np.isfinite(low) and np.isfinite(high)):  # rare: filter only then (a pass over every value)
        values = values[torch.isfinite(values)]
        if not values.numel():
            return None
        low, high = (bound.item() for bound in torch.aminmax(values))
    high = high if high > low else low + 1.0
    counts = torch.histc(values, BINS, low, high).cpu().numpy().astype(np.int64)
    return Histogram(np.linspace(low, high, BINS + 1), counts)


class _Layer:
    """A layer while the forward pass is still in it: its modules so far and its latest output."""

    def __init__(self, name: str, call: int, role: str, module: nn.Module, output: torch.Tensor):
        self.name, self.call, self.role, self.modules, self.output = name, call, role, [module], output

    def takes(self, name: str, role: str, args: tuple) -> bool:
        """Whether the norm or activation `name` called with `args` continues this layer: it reads the layer's
        output, and the module holding the layer (or one enclosing it) holds it too."""
        holder, holds = self.name.rpartition(".")[0], name.rpartition(".")[0]
        return (role in ("norm", "activation") and self.role != "block" and bool(args) and args[0] is self.output
                and (not holds or holder == holds or holder.startswith(holds + ".")))

    def report(self, labels: np.ndarray, sequence: bool) -> LayerReport:
        first = self.modules[0]
        block = self.role == "block"
        kind = type(first).__name__ if block else " + ".join(map(_class_name, self.modules))
        parameters = 0 if block else sum(p.numel() for m in self.modules for p in m.parameters())
        weights = histogram(_values(first)) if self.role in ("weighted", "norm") else None
        out = self.output.detach().float()
        n_inputs = len(labels)
        if out.ndim == 0 or out.shape[0] != n_inputs:
            return LayerReport(self.name, kind, parameters, weights, None, 0, None, None, None, None, None, block,
                               self.call)
        if out.ndim == 3 and sequence:  # (N, T, C)
            per_unit, vectors = out.reshape(-1, out.shape[-1]), out[:, -1]
        elif out.ndim >= 3:  # (N, C, ...): a feature map's unit is a channel
            per_unit, vectors = out.movedim(1, -1).reshape(-1, out.shape[1]), out.flatten(2).mean(2)
        else:
            per_unit = vectors = out.reshape(n_inputs, -1)
        dead = ~(per_unit != 0).any(0)
        bounds = _bounds(self.modules[-1])
        saturated = None
        if bounds is not None:
            near = ((per_unit - bounds[0]) < SATURATION_MARGIN) | ((bounds[1] - per_unit) < SATURATION_MARGIN)
            saturated = float((near.float().mean(0) >= SATURATED_SHARE).float().mean())
        rows = vectors.cpu().double().numpy()
        if not np.ptp(rows, axis=0).any():  # every input gives the same vector (a diffusion step's embedding)
            return LayerReport(self.name, kind, parameters, weights, histogram(out), per_unit.shape[1],
                               float(dead.float().mean()), saturated, None, None, None, block, self.call)
        axes = principal_axes(rows, max(2, min(MAP_COMPONENTS, rows.shape[1])))
        components = axes.project(rows).astype(np.float32)
        return LayerReport(self.name, kind, parameters, weights, histogram(out), per_unit.shape[1],
                           float(dead.float().mean()), saturated, components, float(axes.share[:2].sum()),
                           nearest_neighbour_agreement(components, labels), block, self.call)


class _Recorder:
    """The forward hooks' shared state: layers are grouped as the pass goes, and each is reduced to its
    report as soon as the next begins, so at most two layers' outputs are held at once."""

    def __init__(self, labels: np.ndarray, sequence: bool):
        self.labels, self.sequence = labels, sequence
        self.reports: list[LayerReport] = []
        self.current: _Layer | None = None
        self.calls: Counter[str] = Counter()

    def hook(self, name: str, role: str):
        def record(module: nn.Module, args: tuple, output: Any) -> None:
            tensor = _first_tensor(output)
            if tensor is None:
                return
            if self.current is not None and self.current.takes(name, role, args):
                self.current.modules.append(module)
                self.current.output = tensor
                return
            self._close()
            self.calls[name] += 1
            self.current = _Layer(name, self.calls[name], role, module, tensor)
        return record

    def _close(self) -> None:
        if self.current is not None:
            self.reports.append(self.current.report(self.labels, self.sequence))
            self.current = None

    def finish(self) -> list[LayerReport]:
        self._close()
        return self.reports
