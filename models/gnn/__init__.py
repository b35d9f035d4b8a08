"""GNN: a GCN, GAT or GraphSAGE classifying the nodes of a graph from a few labelled ones (page: pages/gnn.py)."""
from models.gnn.recipe import SHIPPED

__all__ = ["SHIPPED"]
