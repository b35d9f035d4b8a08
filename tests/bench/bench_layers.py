"""Benchmark of the "Inside the layers" page (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_layers.py [--names cnn-fashion rnn-text] [--tsne-layers 6]

For each shipped torch checkpoint: the seconds of the analysis the page caches once per server (its family's
batch, every layer's histograms, dead and saturated shares and principal components), the analysis's size
pickled (what the cache holds), its layers, the JSON the page's default figures send to the browser (the two
depth charts, two layers' histograms, the PCA maps), and the seconds of t-SNE for the maps the page draws by
default (`--tsne-layers` layers evenly spaced in depth).
"""
from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zoo import checkpoints  # noqa: E402
from zoo.layers import figures  # noqa: E402
from zoo.layers.analysis import (LayerAnalysis, analyse_checkpoint, evenly_spaced, torch_checkpoints,  # noqa: E402
                                 tsne_map)
from zoo.layers.batches import BATCH_SIZE  # noqa: E402


def default_figures_bytes(analysis: LayerAnalysis, maps: int) -> int:
    """The JSON of the figures the page draws for a checkpoint before anything is touched."""
    layers = analysis.layers
    weighted = [layer for layer in layers if layer.weights]
    mapped = [layer for layer in layers if layer.components is not None]
    drawn = [figures.unit_health(analysis), figures.class_separation(analysis),
             *(figures.layer_histograms(weighted[i]) for i in evenly_spaced(len(weighted), 2)),
             figures.layer_maps([(layer.name, layer.components[:, :2]) for layer in
                                 (mapped[i] for i in evenly_spaced(len(mapped), maps))],
                                analysis.labels, analysis.classes, "PCA")]
    return sum(len(figure.to_json()) for figure in drawn)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", nargs="*", default=None, help="checkpoints (default: every torch checkpoint)")
    parser.add_argument("--tsne-layers", type=int, default=6)
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}, batch: up to {BATCH_SIZE} inputs")
    print(f"{'checkpoint':<20} {'inputs':>6} {'layers':>6} {'analysis s':>10} {'cached KB':>9} {'figures KB':>10} "
          f"{'t-SNE s':>8} {'per map s':>9}")
    for name in args.names or torch_checkpoints():
        model, _ = checkpoints.load(name, "cpu")
        model.requires_grad_(False)
        started = time.perf_counter()
        analysis = analyse_checkpoint(name, model)
        seconds = time.perf_counter() - started
        payload = len(pickle.dumps(analysis))
        mapped = [layer for layer in analysis.layers if layer.components is not None]
        chosen = [mapped[i] for i in evenly_spaced(len(mapped), args.tsne_layers)]
        started = time.perf_counter()
        for layer in chosen:
            tsne_map(layer)
        tsne_seconds = time.perf_counter() - started
        drawn = default_figures_bytes(analysis, args.tsne_layers)
        print(f"{name:<20} {len(analysis.labels):>6} {len(analysis.layers):>6} {seconds:>10.2f} {payload / 1024:>9.0f} "
              f"{drawn / 1024:>10.0f} {tsne_seconds:>8.1f} {tsne_seconds / max(len(chosen), 1):>9.2f}", flush=True)


if __name__ == "__main__":
    main()
