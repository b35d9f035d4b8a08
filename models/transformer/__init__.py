"""Transformer: a small decoder-only character model, its attention and logit lens (page: pages/transformer.py)."""
from models.transformer.recipe import SHIPPED

__all__ = ["SHIPPED"]
