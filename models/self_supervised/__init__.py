"""Self-supervised learning on Fashion-MNIST without its labels: SimCLR, measured by kNN, linear probes and a
label-efficiency table (page: pages/self_supervised.py)."""
from models.self_supervised.recipe import SHIPPED

__all__ = ["SHIPPED"]
