"""What the self-supervised page computes with the trained encoder: two views of an image, the test
set's features and a 2-D map of them, an image's nearest neighbours, the similarity matrix the loss
sees at a chosen temperature, and a linear probe on a few labels. Arrays come back ready to draw."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.self_supervised.augment import AugmentStrengths, augment
from models.self_supervised.model import SimCLR, nt_xent
from models.self_supervised.probes import LinearProbe, features
from models.self_supervised.recipe import labelled_draw
from zoo.data import fashion_mnist


def two_views(images: torch.Tensor, strengths: AugmentStrengths, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two random views of each float image (N, 1, 28, 28), as (N, 28, 28) arrays in [0, 1]; a seed re-draws them."""
    generator = torch.Generator().manual_seed(seed)
    first, second = augment(images, strengths, generator), augment(images, strengths, generator)
    return first.squeeze(1).numpy(), second.squeeze(1).numpy()


def embed(model: SimCLR, images: torch.Tensor) -> np.ndarray:
    """The encoder's features (N, D) of float images (N, 1, 28, 28) in [0, 1]."""
    return features(model.encoder, images).numpy()


def nearest_neighbours(bank: np.ndarray, query: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of `bank` most cosine-similar to each row of `query`: indices (Q, k) and similarities (Q, k)."""
    similarity = F.normalize(torch.as_tensor(query, dtype=torch.float32), dim=1) @ \
        F.normalize(torch.as_tensor(bank, dtype=torch.float32), dim=1).T
    top, index = similarity.topk(min(k, len(bank)), dim=1)
    return index.numpy(), top.numpy()


@dataclass(frozen=True)
class SimilarityMatrix:
    """What NT-Xent sees in a batch of N images, two views each."""
    cosine: np.ndarray
    """(N, N): cosine similarity of view 1 of image i to view 2 of image j in the projection space"""
    partner_probability: np.ndarray
    """(N, N): softmax over each row at the temperature, the chance view 1 of i names view 2 of j as its partner"""
    loss: float
    """the NT-Xent loss of the batch at the temperature (over all 2N views)"""


@torch.no_grad()
def similarity_matrix(model: SimCLR, images: torch.Tensor, temperature: float, strengths: AugmentStrengths,
                      seed: int = 0) -> SimilarityMatrix:
    """Two views of each image through the encoder and projection head; positives on the diagonal."""
    if temperature <= 0:
        raise ValueError(f"the temperature must be above 0, not {temperature}")
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    views = torch.cat([augment(images, strengths, generator), augment(images, strengths, generator)]).to(device)
    model.eval()
    z1, z2 = model.project(views).float().cpu().chunk(2)
    cosine = F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T
    return SimilarityMatrix(cosine.numpy(), (cosine / temperature).softmax(1).numpy(), nt_xent(z1, z2, temperature).item())


def probe_with_few_labels(model: SimCLR, train: fashion_mnist.Split, test: fashion_mnist.Split, per_class: int,
                          seed: int = 0) -> float:
    """Test accuracy of a linear probe on the frozen features of `per_class` labelled training images per class."""
    chosen = labelled_draw(train.labels, per_class, seed)
    probe = LinearProbe(features(model.encoder, train.floats()[chosen]), train.labels[chosen])
    return probe.accuracy(features(model.encoder, test.floats()), test.labels)
