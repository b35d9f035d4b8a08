"""MLP: a deep perceptron for Fashion-MNIST and the 2-D playground's small networks (page: pages/mlp.py)."""
from models.mlp.recipe import SHIPPED

__all__ = ["SHIPPED"]
