"""ResNet: a residual network for Fashion-MNIST, the plain-vs-residual comparison and transfer
learning onto the person's own classes (page: pages/resnet.py)."""
from models.resnet.recipe import SHIPPED

__all__ = ["SHIPPED"]
