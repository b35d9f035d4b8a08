"""Graph neural networks for semi-supervised node classification, with PyTorch Geometric's layers.

A GCN layer (Kipf & Welling 2017, "Semi-Supervised Classification with Graph Convolutional
Networks") mixes every node's features with its neighbours': H' = D^-1/2 (A + I) D^-1/2 H W, so
after L layers a node has heard from everything within L hops. GAT (Velickovic et al. 2018) learns
how much to listen to each neighbour; GraphSAGE (Hamilton et al. 2017) keeps the node's own
features apart from its neighbours' mean. The "mlp" kind has the same layers without the graph:
the features-only baseline that shows what message passing adds.

As in Kipf & Welling's karate-club figure, the last graph layer has `embed_dim` (2) units, squashed
by tanh, and a linear head classifies them: that 2-D embedding is what the page draws.

Input: float (N, n_features) node features and long (2, E) edges in both directions; output:
logits (N, n_classes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

KINDS = ("gcn", "gat", "sage", "mlp")


@dataclass
class GNNConfig:
    n_features: int = 34
    """input features per node (one per node of the karate club for the shipped model)"""
    n_classes: int = 2
    kind: str = "gcn"
    """one of KINDS"""
    layers: int = 3
    """graph layers, the 2-D embedding layer included: a node hears from this many hops away"""
    hidden: int = 16
    """units of every layer but the last"""
    embed_dim: int = 2
    """units of the last graph layer, the embedding the page draws"""
    heads: int = 4
    """attention heads of a GAT layer (concatenated; the last layer averages them)"""
    dropout: float = 0.5


def make_layer(kind: str, c_in: int, c_out: int, heads: int, last: bool) -> nn.Module:
    """One message-passing layer of `kind` (a plain linear layer for "mlp")."""
    from torch_geometric.nn import (GATConv, GCNConv,  # here: importing PyG takes 2 s, and every page lists the models
                                    SAGEConv)
    if kind == "gcn":
        return GCNConv(c_in, c_out)
    if kind == "gat":
        return GATConv(c_in, c_out if last else c_out // heads, heads=heads, concat=not last)
    if kind == "sage":
        return SAGEConv(c_in, c_out)
    if kind == "mlp":
        return nn.Linear(c_in, c_out)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


class Trace(NamedTuple):
    logits: torch.Tensor
    """(N, n_classes)"""
    hidden: list[torch.Tensor]
    """every layer's output (N, units), the embedding (N, embed_dim) last"""


class GNN(nn.Module):
    """(N, n_features) node features and (2, E) edges -> (N, n_classes) logits."""

    def __init__(self, config: GNNConfig):
        super().__init__()
        if config.layers < 1:
            raise ValueError("a GNN needs at least one layer")
        self.config = config
        widths = [config.n_features] + [config.hidden] * (config.layers - 1) + [config.embed_dim]
        self.convs = nn.ModuleList([make_layer(config.kind, c_in, c_out, config.heads, i == config.layers - 1)
                                    for i, (c_in, c_out) in enumerate(zip(widths, widths[1:]))])
        self.head = nn.Linear(config.embed_dim, config.n_classes)

    def trace(self, x: torch.Tensor, edge_index: torch.Tensor) -> Trace:
        """The logits and every layer's output on the way."""
        hidden = []
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, self.config.dropout, self.training) if i else x
            x = conv(x) if self.config.kind == "mlp" else conv(x, edge_index)
            x = torch.tanh(x) if i == len(self.convs) - 1 else F.relu(x)
            hidden.append(x)
        return Trace(self.head(x), hidden)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return self.trace(x, edge_index).logits

    def loss(self, x: torch.Tensor, edge_index: torch.Tensor, labels: torch.Tensor,
             labelled: torch.Tensor, balance: float = 0.0) -> torch.Tensor:
        """Cross-entropy on the labelled nodes only (bool mask `labelled`): the rest teach through the graph.

        `balance` > 0 adds that many times KL(prior || mean prediction over all nodes), the prior being the
        class shares among the labelled nodes: with one label per class, the network may not call nearly
        every node one class (the class-balance term of discriminative clustering, Krause et al. 2010).
        """
        logits = self(x, edge_index)
        loss = F.cross_entropy(logits[labelled], labels[labelled])
        if balance:
            prior = torch.bincount(labels[labelled], minlength=logits.shape[1]).float()
            prior = prior / prior.sum()
            mean = F.softmax(logits.float(), dim=1).mean(0)
            loss = loss + balance * (prior * (prior.clamp_min(1e-12).log() - mean.clamp_min(1e-12).log())).sum()
        return loss

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, edge_index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Class probabilities (N, n_classes) and the 2-D embedding (N, embed_dim) of every node."""
        trace = self.trace(x, edge_index)
        return F.softmax(trace.logits.float(), dim=1), trace.hidden[-1].float()
