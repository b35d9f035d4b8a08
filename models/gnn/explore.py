"""What the GNN page runs: node features, the normalised adjacency, receptive fields, label
propagation, and the jobs that train a GNN live, compare it with label propagation and a
features-only MLP against the number of labels, and measure over-smoothing against depth.

Accuracy is always on the unlabelled nodes. No Streamlit here.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import networkx as nx
import numpy as np
import torch

from models.gnn import GNN, GNNConfig
from zoo.devices import pick_device
from zoo.data.graphs import Graph
from zoo.devices import torch_threads
from zoo.training.loop import train_steps

FEATURES = ("identity", "structural")
PPR_RESTART = 0.15
"""the restart probability of the random walks behind the structural features"""
MAX_ADJACENCY_SHOWN = 150
"""the page draws the normalised adjacency of at most this many nodes"""
LABEL_PROPAGATION_ALPHA = 0.9
"""how far label propagation lets labels spread (Zhou et al. 2004): 0 keeps them put, near 1 lets them roam"""


@dataclass(frozen=True)
class Settings:
    """A GNN and how it is trained, as the page's widgets set them."""
    kind: str = "gcn"
    layers: int = 3
    hidden: int = 16
    features: str = "structural"
    epochs: int = 300
    lr: float = 0.01
    weight_decay: float = 5e-4
    balance: float = 1.0
    """weight of the class-balance term (models.gnn.GNN.loss); 0 trains on the labelled nodes alone"""


def adjacency(graph: Graph) -> np.ndarray:
    """The dense 0/1 adjacency matrix A (N, N)."""
    a = np.zeros((graph.n, graph.n))
    a[graph.edges[:, 0], graph.edges[:, 1]] = a[graph.edges[:, 1], graph.edges[:, 0]] = 1
    return a


def normalised_adjacency(graph: Graph) -> np.ndarray:
    """D^-1/2 (A + I) D^-1/2 (N, N): the matrix a GCN layer multiplies the features by."""
    a = adjacency(graph) + np.eye(graph.n)
    d = a.sum(1) ** -0.5
    return d[:, None] * a * d[None, :]


def node_features(graph: Graph, features: str) -> torch.Tensor:
    """float (N, N) features: "identity", a one-hot per node (nothing but its identity), or "structural",
    each node's personalised PageRank profile (where random walks restarting at it end up: its position
    in the graph), standardised per column."""
    if features == "identity":
        return torch.eye(graph.n)
    if features != "structural":
        raise ValueError(f"features must be one of {', '.join(FEATURES)}, got {features!r}")
    ppr = PPR_RESTART * np.linalg.inv(np.eye(graph.n) - (1 - PPR_RESTART) * normalised_adjacency(graph))
    ppr = (ppr - ppr.mean(0)) / np.maximum(ppr.std(0), 1e-12)
    return torch.as_tensor(ppr, dtype=torch.float32)


def hops(graph: Graph, node: int) -> np.ndarray:
    """int (N,) each node's distance in edges from `node` (-1 where unreachable): after L layers a GCN's
    output at `node` depends on exactly the nodes within L hops, its receptive field."""
    distance = np.full(graph.n, -1)
    for other, length in nx.single_source_shortest_path_length(graph.to_networkx(), node).items():
        distance[other] = length
    return distance


def draw_labelled(labels: np.ndarray, per_class: int, seed: int) -> list[int]:
    """`per_class` nodes of every class at random (all of a class smaller than that, but one left unlabelled)."""
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        chosen += rng.choice(members, min(per_class, max(len(members) - 1, 1)), replace=False).tolist()
    return sorted(chosen)


def unlabelled_accuracy(probs: np.ndarray, labels: np.ndarray, labelled: Sequence[int]) -> float:
    """The share of the nodes outside `labelled` whose most likely class is right."""
    rest = np.ones(len(labels), dtype=bool)
    rest[list(labelled)] = False
    return float((probs.argmax(1)[rest] == labels[rest]).mean()) if rest.any() else float("nan")


def label_propagation(graph: Graph, labelled: Sequence[int], alpha: float = LABEL_PROPAGATION_ALPHA) -> np.ndarray:
    """Class scores (N, K) by label propagation (Zhou et al. 2004): F = (I - alpha S)^-1 Y with
    S = D^-1/2 A D^-1/2, each class's column scaled to sum 1 so a big class does not drown a small one,
    rows scaled to sum 1. No features and no training: labels spread along the edges."""
    a = adjacency(graph)
    d = np.maximum(a.sum(1), 1) ** -0.5
    y = np.zeros((graph.n, len(graph.classes)))
    y[list(labelled), graph.labels[list(labelled)]] = 1
    scores = np.linalg.solve(np.eye(graph.n) - alpha * d[:, None] * a * d[None, :], y)
    scores = scores / np.maximum(scores.sum(0, keepdims=True), 1e-12)
    return scores / np.maximum(scores.sum(1, keepdims=True), 1e-12)


def build(graph: Graph, settings: Settings, kind: str | None = None, layers: int | None = None) -> GNN:
    return GNN(GNNConfig(n_features=graph.n, n_classes=len(graph.classes), kind=kind or settings.kind,
                         layers=layers or settings.layers, hidden=settings.hidden))


def initialise(model: GNN, seed: int) -> None:
    """Fresh weights from `seed`, the same however the model was built."""
    torch.manual_seed(seed)
    for module in model.modules():
        if module is not model and hasattr(module, "reset_parameters"):
            module.reset_parameters()


def fit_nodes(model: GNN, graph: Graph, x: torch.Tensor, labelled: Sequence[int], settings: Settings, seed: int,
              device: torch.device, state: dict | None = None) -> Iterator[dict]:
    """Train `model` from a fresh seeded initialisation on the labelled nodes given features `x`, the
    full graph every step, for `settings.epochs` (Adam with L2 weight decay, as Kipf & Welling, and the
    class-balance term of GNN.loss); yields {step, loss, lr, total}."""
    initialise(model, seed)
    model.to(device)
    x, edge_index = x.to(device), graph.edge_index().to(device)
    labels = torch.as_tensor(graph.labels, device=device)
    mask = torch.zeros(graph.n, dtype=torch.bool, device=device)
    mask[list(labelled)] = True
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    for event in train_steps(model, itertools.repeat((x, edge_index, labels, mask)), optimizer,
                             settings.epochs, balance=settings.balance):
        if state is not None:
            state["step"] = event["step"]
        yield event | {"total": settings.epochs}


def train_fresh(graph: Graph, x: torch.Tensor, labelled: Sequence[int], settings: Settings, seed: int,
                device: torch.device, kind: str | None = None,
                layers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Train a new model on features `x` to the end; its class probabilities (N, K) and embedding (N, 2)."""
    model = build(graph, settings, kind, layers)
    for _ in fit_nodes(model, graph, x, labelled, settings, seed, device):
        pass
    probs, embedding = model.eval().predict_proba(x.to(device), graph.edge_index().to(device))
    return probs.cpu().numpy(), embedding.cpu().numpy()


def compare_methods(graph: Graph, x: torch.Tensor, labelled: Sequence[int], settings: Settings, seed: int,
                    device: torch.device) -> dict[str, float]:
    """Accuracy on the unlabelled nodes of the GNN, label propagation and a features-only MLP, same labels."""
    score = lambda probs: unlabelled_accuracy(probs, graph.labels, labelled)
    return {"gnn": score(train_fresh(graph, x, labelled, settings, seed, device)[0]),
            "label_propagation": score(label_propagation(graph, labelled)),
            "mlp": score(train_fresh(graph, x, labelled, settings, seed, device, kind="mlp")[0])}


def train_live(graph: Graph, labelled: list[int], settings: Settings, seed: int = 0, frames: int = 40,
               threads: int | None = 1) -> Iterator[dict]:
    """Job: train a fresh GNN; yields {step, loss} every step and, `frames` times over the run, the
    unlabelled accuracy and every node's probabilities and 2-D embedding (float16). Returns the last frame."""
    with torch_threads(threads):
        device = pick_device()
        model = build(graph, settings)
        initialise(model, seed)  # as fit_nodes will: the first frame shows the untrained network it starts from
        model.to(device)
        x, edge_index = node_features(graph, settings.features).to(device), graph.edge_index().to(device)
        every, frame = max(1, settings.epochs // frames), None
        start = {"step": 0, "graph": graph.name, "n": graph.n, "labelled": labelled}
        for event in itertools.chain([start], fit_nodes(model, graph, x, labelled, settings, seed, device)):
            if event["step"] % every == 0 or event["step"] == settings.epochs:
                was_training = model.training
                probs, embedding = model.eval().predict_proba(x, edge_index)
                model.train(was_training)
                frame = {"probs": probs.cpu().numpy().astype(np.float16),
                         "embedding": embedding.cpu().numpy().astype(np.float16),
                         "accuracy": unlabelled_accuracy(probs.cpu().numpy(), graph.labels, labelled)}
                event = event | frame
            yield event
        return frame


def label_counts(graph: Graph, most: int = 10) -> list[int]:
    """Labels per class to compare at: 1, 2, 3, 5, 10, up to what the smallest class allows."""
    smallest = int(np.bincount(graph.labels).min())
    return [k for k in (1, 2, 3, 5, 10) if k <= min(most, max(smallest - 1, 1))]


def accuracy_vs_labels(graph: Graph, settings: Settings, repeats: int = 3, threads: int | None = 1) -> Iterator[dict]:
    """Job: for each count in `label_counts` and `repeats` random draws, the unlabelled accuracy of the GNN,
    label propagation and the features-only MLP on the same labels; yields one event per draw."""
    with torch_threads(threads):
        device, x = pick_device(), node_features(graph, settings.features)
        counts = label_counts(graph)
        for step, (k, seed) in enumerate(itertools.product(counts, range(repeats)), 1):
            scores = compare_methods(graph, x, draw_labelled(graph.labels, k, seed), settings, seed, device)
            yield {"step": step, "total": len(counts) * repeats, "graph": graph.name, "per_class": k, **scores}


def mean_cosine_distance(h: np.ndarray) -> float:
    """How different the nodes' representations (N, D) are: the mean cosine distance over every pair of
    nodes, each with itself included (MAD, Chen et al. 2020). Near 0 means every node looks the same:
    over-smoothed."""
    unit = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
    return float(1 - (unit @ unit.T).mean())


def over_smoothing(graph: Graph, labelled: list[int], settings: Settings, depths: Sequence[int] = range(2, 9),
                   seed: int = 0, threads: int | None = 1) -> Iterator[dict]:
    """Job: a fresh GNN per depth on the same labels; yields its unlabelled accuracy and the mean cosine
    distance between the nodes in its last hidden layer, untrained (the graph alone smooths them) and trained."""
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
            for _ in fit_nodes(model, graph, x, labelled, settings, seed, device):
                pass
            probs, _ = model.eval().predict_proba(x, edge_index)
            yield {"step": step, "total": len(depths), "graph": graph.name, "layers": depth,
                   "accuracy": unlabelled_accuracy(probs.cpu().numpy(), graph.labels, labelled),
                   "distance": distance(model), "distance_untrained": untrained}


def summary(events: Sequence[dict], key: str) -> dict[Any, dict[str, float]]:
    """Mean of each method's accuracy by `key` (e.g. "per_class") over a job's events."""
    out: dict[Any, dict[str, float]] = {}
    for value in sorted({e[key] for e in events if key in e}):
        chosen = [e for e in events if e.get(key) == value]
        out[value] = {m: float(np.mean([e[m] for e in chosen])) for m in ("gnn", "label_propagation", "mlp")}
    return out


def predict(model: GNN, graph: Graph, features: str) -> tuple[np.ndarray, np.ndarray]:
    """A trained model's class probabilities (N, K) and 2-D embedding (N, 2) for every node of `graph`."""
    device = next(model.parameters()).device
    probs, embedding = model.predict_proba(node_features(graph, features).to(device), graph.edge_index().to(device))
    return probs.cpu().numpy(), embedding.cpu().numpy()


def layout(graph: Graph, seed: int = 0) -> np.ndarray:
    """(N, 2) node positions for drawing: a force-directed layout (Fruchterman & Reingold 1991), seeded;
    fewer iterations on a big graph (50 took 14 s on 2,000 nodes)."""
    positions = nx.spring_layout(graph.to_networkx(), seed=seed, iterations=50 if graph.n <= 300 else 15)
    return np.array([positions[i] for i in range(graph.n)], dtype=np.float32)
