"""Autoencoders on Fashion-MNIST: plain, denoising, sparse and variational (page: pages/autoencoder.py)."""
from models.autoencoder.recipe import SHIPPED

__all__ = ["SHIPPED"]
