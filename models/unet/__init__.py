"""U-Net: semantic segmentation of generated scenes of shapes (page: pages/unet.py)."""
from models.unet.recipe import SHIPPED

__all__ = ["SHIPPED"]
