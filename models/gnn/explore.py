"""What the GNN page computes beside training: a node's receptive field, the page's jobs that compare the
GNN with label propagation and a features-only MLP against the number of labels and measure over-smoothing
against depth, and a layout to draw the graph. Accuracy is always on the unlabelled nodes.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterator, Sequence

import networkx as nx
import numpy as np
import torch

from models.gnn.model import GNN
from models.gnn.recipe import (Settings, build, compare_methods, draw_labelled, fit_nodes, initialise, node_features,
                               normalised_adjacency, unlabelled_accuracy)
from zoo.data.graphs import Graph
from zoo.devices import pick_device, torch_threads
from zoo.jobs import deadline

MAX_ADJACENCY_SHOWN = 150
"""the page draws the normalised adjacency of at most this many nodes"""


def adjacency_by_class(graph: Graph) -> tuple[np.ndarray, list[str]]:
    """The normalised adjacency of the first MAX_ADJACENCY_SHOWN nodes sorted by class (so communities show as
    blocks), and their names."""
    order = np.argsort(graph.labels, kind="stable")[:MAX_ADJACENCY_SHOWN]
    return normalised_adjacency(graph)[np.ix_(order, order)], [graph.nodes[i] for i in order]


def hops(graph: Graph, node: int) -> np.ndarray:
    """int (N,) each node's distance in edges from `node` (-1 where unreachable): after L layers a GCN's
    output at `node` depends on exactly the nodes within L hops, its receptive field."""
    distance = np.full(graph.n, -1)
    for other, length in nx.single_source_shortest_path_length(graph.to_networkx(), node).items():
        distance[other] = length
    return distance


def label_counts(graph: Graph, most: int = 10) -> list[int]:
    """Labels per class to compare at: 1, 2, 3, 5, 10, up to what the smallest class allows."""
    smallest = int(np.bincount(graph.labels).min())
    return [k for k in (1, 2, 3, 5, 10) if k <= min(most, max(smallest - 1, 1))]


def accuracy_vs_labels(graph: Graph, settings: Settings, repeats: int = 3, threads: int | None = 1) -> Iterator[dict]:
    """Job: for each count in `label_counts` and `repeats` random draws, the unlabelled accuracy of the GNN,
    label propagation and the features-only MLP on the same labels; yields one event per draw. Near the
    job's time limit it stops after a draw (`zoo.jobs.deadline`)."""
    with torch_threads(threads):
        device, x = pick_device(), node_features(graph, settings.features)
        counts = label_counts(graph)
        total = len(counts) * repeats
        for step, (k, seed) in enumerate(itertools.product(counts, range(repeats)), 1):
            scores = compare_methods(graph, x, draw_labelled(graph.labels, k, seed), settings, seed, device)
            event = {"step": step, "total": total, "graph": graph.name, "per_class": k, **scores}
            stopping = deadline.wrap_up(event, step, total, "draws")
            yield event
            if stopping:
                break


def mean_cosine_distance(h: np.ndarray) -> float:
    """How different the nodes' representations (N, D) are: the mean cosine distance over every pair of
    nodes, each with itself included (MAD, Chen et al. 2020). Near 0 means every node looks the same:
    over-smoothed."""
    unit = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
    return float(1 - (unit @ unit.T).mean())


def over_smoothing(graph: Graph, labelled: list[int], settings: Settings, depths: Sequence[int] = range(2, 9),
                   seed: int = 0, threads: int | None = 1) -> Iterator[dict]:
    """Job: a fresh GNN per depth on the same labels; yields its unlabelled accuracy and the mean cosine
    distance between the nodes in its last hidden layer, untrained (the graph alone smooths them) and trained.
    Near the job's time limit it stops after a depth (`zoo.jobs.deadline`)."""
    with torch_threads(threads):
        device = pick_device()
        x, edge_index = node_features(graph, settings.features).to(device), graph.edge_index().to(device)

        def distance(model: GNN) -> float:
            with torch.no_grad():
                return mean_cosine_distance(model.eval().trace(x, edge_index).hidden[-2].float().cpu().numpy())

        for step, depth in enumerate(depths, 1):
            model = build(graph, settings, layers=depth)
            initialise(model, seed)  # the start fit_nodes trains from
            untrained = distance(model.to(device))
            for _ in fit_nodes(model, graph, x, labelled, settings, seed, device, may_stop_early=False):
                pass
            probs, _ = model.eval().predict_proba(x, edge_index)
            event = {"step": step, "total": len(depths), "graph": graph.name, "layers": depth,
                     "accuracy": unlabelled_accuracy(probs.cpu().numpy(), graph.labels, labelled),
                     "distance": distance(model), "distance_untrained": untrained}
            stopping = deadline.wrap_up(event, step, len(depths), "depths")
            yield event
            if stopping:
                break


def summary(events: Sequence[dict], key: str) -> dict[Any, dict[str, float]]:
    """Mean of each method's accuracy by `key` (e.g. "per_class") over a job's events."""
    out: dict[Any, dict[str, float]] = {}
    for value in sorted({e[key] for e in events if key in e}):
        chosen = [e for e in events if e.get(key) == value]
        out[value] = {m: float(np.mean([e[m] for e in chosen])) for m in ("gnn", "label_propagation", "mlp")}
    return out


def layout(graph: Graph, seed: int = 0) -> np.ndarray:
    """(N, 2) node positions for drawing: a force-directed layout (Fruchterman & Reingold 1991), seeded;
    fewer iterations on a big graph (50 took 14 s on 2,000 nodes)."""
    positions = nx.spring_layout(graph.to_networkx(), seed=seed, iterations=50 if graph.n <= 300 else 15)
    return np.array([positions[i] for i in range(graph.n)], dtype=np.float32)

