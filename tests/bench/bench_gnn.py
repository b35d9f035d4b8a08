"""Benchmark of the GNN page's training (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_gnn.py

1. Epoch time (one full-graph forward, backward and Adam step) of the page's GCN, GAT and GraphSAGE
   on the largest shipped graph, Les Misérables (77 nodes), with both kinds of features; median of 200.
2. The same GCN epoch on a stochastic block model at the upload cap (ZOO_MAX_GRAPH_NODES, 2,000
   nodes), and what the page does once per graph there: the structural features and the layout.
"""
from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import median_ms  # noqa: E402  (same directory)
from models.gnn import explore, recipe  # noqa: E402
from zoo.data import graphs  # noqa: E402


def epoch_ms(graph: graphs.Graph, settings: recipe.Settings, repeats: int = 200) -> float:
    """Median milliseconds of one training epoch of the page's model on `graph` (class-balance term included),
    5 labels per class."""
    model = recipe.build(graph, settings).train()
    x, edge_index = recipe.node_features(graph, settings.features), graph.edge_index()
    labels = torch.as_tensor(graph.labels)
    mask = torch.zeros(graph.n, dtype=torch.bool)
    mask[recipe.draw_labelled(graph.labels, 5, 0)] = True
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)

    def epoch():
        loss = model.loss(x, edge_index, labels, mask, balance=settings.balance)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return median_ms(epoch, repeats)


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    print(f"torch threads: {torch.get_num_threads()}")
    les_mis = graphs.BUILT_IN["Les Misérables"]()
    print(f"{les_mis.name}: {les_mis.n} nodes, {len(les_mis.edges)} edges, {len(les_mis.classes)} classes")
    for kind, features in itertools.product(("gcn", "gat", "sage"), recipe.FEATURES):
        settings = recipe.Settings(kind=kind, features=features)
        print(f"  {kind.upper():>4}, {features:>10} features, {settings.layers} layers: "
              f"{epoch_ms(les_mis, settings):.2f} ms per epoch")
    big = graphs.block_model([400] * 5, 0.02, 0.002, seed=0)
    print(f"SBM at the node cap: {big.n:,} nodes, {len(big.edges):,} edges")
    for features in recipe.FEATURES:
        print(f"  GCN, {features:>10} features: {epoch_ms(big, recipe.Settings(features=features), 50):.1f} ms "
              "per epoch")
    print(f"  once per graph: structural features {seconds(lambda: recipe.node_features(big, 'structural')):.2f} s, "
          f"layout {seconds(lambda: explore.layout(big)):.2f} s")


if __name__ == "__main__":
    main()
