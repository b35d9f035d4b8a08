"""models.gnn: the GCN layer against its dense formula, the models, label propagation, the page's jobs, and a
CLI round trip of a tiny recipe (the graphs and every bad edge list: tests/zoo/test_graphs.py)."""
import json
import math

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.nn import GCNConv

from models.gnn import explore, recipe
from models.gnn.model import GNN, KINDS, GNNConfig
from models.gnn.recipe import GNNRecipe, NodeTraining
from tests.helpers import consume
from zoo import checkpoints, evaluate, train
from zoo.data import graphs

TWO_CLIQUES = b"".join(f"{u},{v}\n".encode() for block in (range(0, 5), range(5, 10))
                       for u in block for v in block if u < v) + b"4,5\n"
"""two 5-cliques (nodes 0-4 and 5-9) joined by the edge 4-5"""


def two_cliques() -> graphs.Graph:
    labels = b"node,label\n" + b"".join(f"{i},{'left' if i < 5 else 'right'}\n".encode() for i in range(10))
    return graphs.read_upload(TWO_CLIQUES, "cliques.csv", labels, "labels.csv")


def test_gcn_layer_is_the_dense_normalised_propagation():
    """PyG's GCNConv computes D^-1/2 (A + I) D^-1/2 X W (+ b), with the matrix `normalised_adjacency` builds."""
    torch.manual_seed(0)
    graph = graphs.karate_club()
    a = nx.to_numpy_array(nx.karate_club_graph(), weight=None) + np.eye(34)
    d = np.diag(a.sum(1) ** -0.5)
    dense = d @ a @ d
    assert np.allclose(recipe.normalised_adjacency(graph), dense)
    conv = GCNConv(5, 3)
    x = torch.randn(34, 5)
    expected = torch.tensor(dense, dtype=torch.float32) @ x @ conv.lin.weight.T + conv.bias
    assert torch.allclose(conv(x, graph.edge_index()), expected, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_gives_logits_an_embedding_and_learns(kind):
    graph = two_cliques()
    model = GNN(GNNConfig(n_features=10, n_classes=2, kind=kind, layers=3, hidden=8))
    x, edge_index = recipe.node_features(graph, "identity"), graph.edge_index()
    trace = model.trace(x, edge_index)
    assert trace.logits.shape == (10, 2) and [h.shape[1] for h in trace.hidden] == [8, 8, 2]
    settings = recipe.Settings(epochs=30, lr=0.05, weight_decay=0.0, balance=0.0)
    events = list(recipe.fit_nodes(model, graph, x, [0, 9], settings, 0, torch.device("cpu")))
    assert events[-1]["loss"] < events[0]["loss"] and events[-1]["total"] == 30
    probs, embedding = model.eval().predict_proba(x, edge_index)
    assert torch.allclose(probs.sum(1), torch.ones(10)) and embedding.abs().max() <= 1
    with pytest.raises(ValueError, match="kind must be one of"):
        GNN(GNNConfig(kind="cnn"))


class FixedLogits(GNN):
    """A GNN whose logits are given, to test its loss alone."""

    def __init__(self, logits: torch.Tensor):
        super().__init__(GNNConfig(n_features=1, n_classes=logits.shape[1]))
        self.fixed = logits

    def forward(self, x, edge_index):
        return self.fixed


def test_class_balance_term_penalises_a_lopsided_mean_prediction_only():
    labels, labelled = torch.tensor([0, 1, 0, 1]), torch.tensor([True, True, False, False])
    sure = torch.tensor([[4.0, -4.0], [-4.0, 4.0]])
    balanced, lopsided = FixedLogits(sure.repeat(2, 1)), FixedLogits(torch.cat([sure, sure[:1], sure[:1]]))
    for model in (balanced, lopsided):
        assert model.loss(None, None, labels, labelled) == model.loss(None, None, labels, labelled, balance=0.0)
    extra = lambda model: (model.loss(None, None, labels, labelled, balance=1.0)
                           - model.loss(None, None, labels, labelled)).item()
    assert extra(balanced) == pytest.approx(0.0, abs=1e-6)  # half the nodes each way, as the labels are
    assert extra(lopsided) == pytest.approx(0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25), abs=1e-3)


def test_features_hops_draws_and_label_propagation():
    graph = two_cliques()
    assert torch.equal(recipe.node_features(graph, "identity"), torch.eye(10))
    structural = recipe.node_features(graph, "structural")
    assert structural.shape == (10, 10) and torch.allclose(structural.mean(0), torch.zeros(10), atol=1e-5)
    assert explore.hops(graph, 0).tolist() == [0, 1, 1, 1, 1, 2, 3, 3, 3, 3] and explore.hops(graph, 4).max() == 2
    labelled = recipe.draw_labelled(graph.labels, 2, seed=0)
    assert len(labelled) == 4 and np.bincount(graph.labels[labelled]).tolist() == [2, 2]
    assert recipe.draw_labelled(graph.labels, 1, 3) == recipe.draw_labelled(graph.labels, 1, 3)
    scores = recipe.label_propagation(graph, [0, 9])
    assert np.allclose(scores.sum(1), 1) and recipe.unlabelled_accuracy(scores, graph.labels, [0, 9]) == 1.0
    assert explore.mean_cosine_distance(np.ones((5, 2))) == pytest.approx(0)
    assert explore.mean_cosine_distance(np.eye(2)) == pytest.approx(0.5)


def test_the_adjacency_the_page_draws_is_sorted_by_class_and_capped(monkeypatch):
    graph = graphs.karate_club()
    matrix, names = explore.adjacency_by_class(graph)
    order = np.argsort(graph.labels, kind="stable")
    assert names == [graph.nodes[i] for i in order] and graph.labels[order].tolist() == sorted(graph.labels.tolist())
    assert np.allclose(matrix, recipe.normalised_adjacency(graph)[np.ix_(order, order)])
    monkeypatch.setattr(explore, "MAX_ADJACENCY_SHOWN", 5)
    matrix, names = explore.adjacency_by_class(graph)
    assert matrix.shape == (5, 5) and len(names) == 5


def test_the_page_jobs():
    graph = two_cliques()
    settings = recipe.Settings(layers=2, epochs=20)
    events, last = consume(recipe.train_live(graph, [0, 9], settings, frames=4))
    assert events[0]["labelled"] == [0, 9] and events[-1]["step"] == 20
    frames = [e for e in events if "embedding" in e]
    assert [f["step"] for f in frames] == [0, 5, 10, 15, 20] and frames[-1]["accuracy"] == last["accuracy"]
    assert last["probs"].shape == (10, 2)
    assert last["embedding"].dtype == np.float16 and 0 <= last["accuracy"] <= 1
    events, _ = consume(explore.accuracy_vs_labels(graph, settings, repeats=2))
    assert explore.label_counts(graph) == [1, 2, 3] and len(events) == 6
    table = explore.summary(events, "per_class")
    assert list(table) == [1, 2, 3] and set(table[1]) == {"gnn", "label_propagation", "mlp"}
    events, _ = consume(explore.over_smoothing(graph, [0, 9], settings, depths=(2, 4)))
    assert [e["layers"] for e in events] == [2, 4] and all(0 <= e["distance_untrained"] <= 2 for e in events)


def tiny_recipe() -> GNNRecipe:
    return GNNRecipe(GNN, GNNConfig(hidden=8), title="GCN", training=NodeTraining(epochs=10, draws=2))


def test_cli_round_trip_of_a_tiny_recipe(checkpoint_dir, monkeypatch, capsys):
    monkeypatch.setitem(checkpoints.registry(), "gcn-karate", tiny_recipe())
    train.main(["gcn-karate", "--device", "cpu"])
    model, card = checkpoints.load("gcn-karate", "cpu")
    assert card["steps"] == 10 and card["classes"] == ["Mr. Hi", "Officer"] and card["graph"]["nodes"] == 34
    assert card["train_command"] == "python -m zoo.train gcn-karate" and card["metrics"]["draws"] == 2
    capsys.readouterr()
    evaluate.main(["gcn-karate", "--json"])
    measured = json.loads(capsys.readouterr().out)
    assert measured == pytest.approx(card["metrics"])
    assert set(measured) >= {"accuracy", "checkpoint_accuracy", "label_propagation_accuracy", "mlp_accuracy"}


def test_shipped_checkpoint_is_small_and_its_card_says_what_it_measured():
    weights, card_path = checkpoints.paths("gcn-karate")
    assert weights.stat().st_size < 25 * 2 ** 20
    card = json.loads(card_path.read_text())
    assert card["training"]["labelled"] == [0, 33] and card["metrics"]["n_unlabelled"] == 32
    assert card["metrics"]["checkpoint_accuracy"] >= 0.95 and card["metrics"]["draws"] == 10
    assert card["metrics"]["accuracy"] >= 0.95 or "0.95" in card["note"], "the card says why the target is missed"
