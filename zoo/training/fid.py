"""One quality measure for every generative model: FID in the shipped CNN's feature space, and
class coverage.

FID (Heusel et al. 2017) is the Fréchet distance between two Gaussians fitted to features of
real and generated images. Inception features do not fit 28x28 greyscale garments, so the
features here are the penultimate layer of the zoo's own Fashion-MNIST CNN (`cnn-fashion`):
the numbers are on their own scale, comparable across the zoo's models but not with papers.
The floor is what real images score: 10,000 training images against the test set.

Class coverage is the share of samples the same CNN assigns to each class; a generator that
collapsed onto a few modes shows it as shares far from one tenth; a class counts as covered
when at least 2% of the samples (a fifth of its fair share) land in it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from zoo import checkpoints, devices, kept_arrays, progress
from zoo.data import fashion_mnist

FEATURE_MODEL = "cnn-fashion"
N_SAMPLES = 10_000
"""samples per FID measurement, and training images in the real-vs-real floor"""
COVERED_SHARE = 0.02


@dataclass(frozen=True)
class FeatureStats:
    """Mean and covariance of a set's CNN features, and the CNN's class shares over the set."""
    mean: np.ndarray
    covariance: np.ndarray
    class_shares: np.ndarray
    n: int


@lru_cache(maxsize=1)
def _feature_model() -> torch.nn.Module:
    model, _ = checkpoints.load(FEATURE_MODEL, "cpu")
    return devices.inference_copy(model)


@torch.no_grad()
def feature_stats(images: torch.Tensor | np.ndarray, batch_size: int = 1000) -> FeatureStats:
    """Stats of float images (N, 28, 28) or (N, 1, 28, 28) in [0, 1]."""
    images = torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(-1, 1, 28, 28)
    if len(images) < 2:
        raise ValueError("FID needs at least two images")
    model = _feature_model()
    features, predicted = [], []
    for start in progress.bar(range(0, len(images), batch_size), "CNN features", unit="batch"):
        batch = images[start:start + batch_size].clamp(0, 1)
        hidden = model.features(batch)
        features.append(hidden.double())
        predicted.append(model.head[-2:](hidden).argmax(1))
    features_all = torch.cat(features).numpy()
    counts = np.bincount(torch.cat(predicted).numpy(), minlength=len(fashion_mnist.CLASSES))
    return FeatureStats(features_all.mean(0), np.cov(features_all, rowvar=False), counts / counts.sum(), len(images))


def frechet_distance(a: FeatureStats, b: FeatureStats) -> float:
    """|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^1/2).

    The trace of the square root is the sum of the square roots of the eigenvalues of S_a S_b,
    which are real and non-negative for covariance matrices (up to rounding, clipped here)."""
    eigenvalues = np.linalg.eigvals(a.covariance @ b.covariance).real.clip(min=0)
    distance = ((a.mean - b.mean) ** 2).sum() + np.trace(a.covariance) + np.trace(b.covariance) \
        - 2 * np.sqrt(eigenvalues).sum()
    return float(max(distance, 0.0))


@lru_cache(maxsize=1)
def test_stats() -> FeatureStats:
    """The reference every FID here is measured against: the 10,000 test images (kept on disk: `kept_arrays`)."""
    def compute() -> dict[str, np.ndarray]:
        stats = feature_stats(fashion_mnist.load("test").floats())
        return {"mean": stats.mean, "covariance": stats.covariance, "class_shares": stats.class_shares,
                "n": np.array(stats.n)}
    kept = kept_arrays.kept("fid-test-stats", _sources(), compute)
    return FeatureStats(kept["mean"], kept["covariance"], kept["class_shares"], int(kept["n"]))


@lru_cache(maxsize=1)
def real_floor() -> float:
    """FID of 10,000 training images against the test set: the best a generator can hope for."""
    def compute() -> dict[str, np.ndarray]:
        train = fashion_mnist.load("train")
        chosen = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:N_SAMPLES]
        return {"fid": np.array(frechet_distance(feature_stats(train.images[chosen].float() / 255.0), test_stats()))}
    return float(kept_arrays.kept("fid-real-floor", _sources(), compute)["fid"])


def _sources() -> list[str]:
    """What the reference figures depend on: the feature model's weights and the data set's files."""
    return [checkpoints.read_card(FEATURE_MODEL)["sha256"], *(sha for _, sha in fashion_mnist.FILES.values())]


def fid(images: torch.Tensor | np.ndarray) -> float:
    """FID of generated images against the test set."""
    return frechet_distance(feature_stats(images), test_stats())


def quality(images: torch.Tensor | np.ndarray) -> dict:
    """The figures every generative card records: FID beside its floor, and class coverage."""
    stats = feature_stats(images)
    shares = stats.class_shares
    return {
        "fid": frechet_distance(stats, test_stats()),
        "fid_real_floor": real_floor(),
        "fid_samples": stats.n,
        "class_shares": {name: float(share) for name, share in zip(fashion_mnist.CLASSES, shares)},
        "coverage_min_share": float(shares.min()),
        "coverage_max_share": float(shares.max()),
        "classes_covered": int((shares >= COVERED_SHARE).sum()),
    }
