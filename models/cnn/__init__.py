"""CNN: a small convolutional network for Fashion-MNIST (page: pages/cnn.py)."""
from models.cnn.recipe import SHIPPED

__all__ = ["SHIPPED"]
