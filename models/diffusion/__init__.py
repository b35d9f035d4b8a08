"""Diffusion: a class-conditional DDPM on Fashion-MNIST, sampled with DDIM (page: pages/diffusion.py)."""
from models.diffusion.recipe import SHIPPED

__all__ = ["SHIPPED"]
