"""GAN: a toy GAN on 2-D points and a class-conditional DCGAN for Fashion-MNIST (page: pages/gan.py)."""
from models.gan.recipe import SHIPPED

__all__ = ["SHIPPED"]
