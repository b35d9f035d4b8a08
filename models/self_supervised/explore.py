"""What the self-supervised page computes with the trained encoder: two views of an image and how alike the
encoder finds them, the test set's features and a 2-D map of them, an image's nearest neighbours, the
similarity matrix the loss sees at a chosen temperature, and linear probes on a few labels (drawn from the
training set, or the person's own). Arrays come back ready to draw."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.self_supervised.augment import AugmentStrengths, augment
from models.self_supervised.model import SimCLR, nt_xent
from models.self_supervised.probes import LinearProbe, features
from models.self_supervised.recipe import SimCLRTraining, labelled_draw
from zoo import checkpoints, devices, kept_arrays, photos, uploads
from zoo.data import fashion_mnist
from zoo.projection import PrincipalAxes, principal_axes, tsne
from zoo.training.image_classifier import fashion_arrays

MAP_POINTS = 2000
"""test images on the map: t-SNE costs O(n^2) an iteration (2,000 points: about 20 s on one busy core, once)"""
PLACE_NEIGHBOURS = 10
"""a new image goes on the t-SNE map at the mean place of this many of its most similar map points"""
FEATURES_IN_BF16 = SimCLRTraining().bf16_on_cpu
"""the page's features under bfloat16 autocast where the CPU computes it, as the encoder trained: 2,000 test images
took 1.6 s instead of 4.7 s in float32 on one busy core with AMX, each row at cosine 0.9998 or more to its float32
features"""


def two_views(images: torch.Tensor, strengths: AugmentStrengths, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two random views of each float image (N, 1, 28, 28), as (N, 28, 28) arrays in [0, 1]; a seed re-draws them."""
    generator = torch.Generator().manual_seed(seed)
    first, second = augment(images, strengths, generator), augment(images, strengths, generator)
    return first.squeeze(1).numpy(), second.squeeze(1).numpy()


def embed(model: SimCLR, images: torch.Tensor) -> np.ndarray:
    """The encoder's features (N, D) of float images (N, 1, 28, 28) in [0, 1]."""
    device = next(model.parameters()).device
    in_bf16 = devices.autocasts_to_bf16(device, FEATURES_IN_BF16)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=in_bf16):
        return features(model.encoder, images).numpy()


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of a (N, D) to the same row of b."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)


def views_agreement(model: SimCLR, first: np.ndarray, second: np.ndarray) -> float:
    """How alike the encoder finds two views (28, 28): the cosine similarity of their features."""
    pair = torch.from_numpy(np.stack([first, second])).float().unsqueeze(1)
    rows = embed(model, pair)
    return float(cosine(rows[:1], rows[1:])[0])


@dataclass(frozen=True)
class TestSet:
    """The test images the page measures against, with the encoder's features of each."""
    images: np.ndarray
    """uint8 (N, 28, 28)"""
    labels: np.ndarray
    features: np.ndarray
    """(N, D)"""
    complete: bool
    """the 10,000 test images (False: the 100-image sample shipped in assets/, without the dataset)"""

    def typical_similarity(self, pairs: int = 5000, seed: int = 0) -> float:
        """The mean cosine similarity of two different test images picked at random."""
        rng = np.random.default_rng(seed)
        first, second = rng.integers(0, len(self.labels), (2, pairs))
        distinct = first != second
        return float(cosine(self.features[first[distinct]], self.features[second[distinct]]).mean())


def test_set(model: SimCLR) -> TestSet:
    """The encoder's features of the 10,000 test images, kept on disk for the next server under the weights'
    sha256 (`zoo.kept_arrays`), or of the shipped sample without the dataset."""
    if not fashion_mnist.is_installed():
        sample = fashion_mnist.load_sample()
        return TestSet(sample.images.numpy(), sample.labels.numpy(), embed(model, sample.floats()), False)
    split = fashion_mnist.load("test")
    device = next(model.parameters()).device
    sources = [hashlib.sha256(checkpoints.state_dict_bytes(model.encoder)).hexdigest(), fashion_mnist.FILES["test-images"][1],
               device.type, str(devices.autocasts_to_bf16(device, FEATURES_IN_BF16))]
    kept = kept_arrays.kept("simclr-test-features", sources, lambda: {"features": embed(model, split.floats())})
    return TestSet(split.images.numpy(), split.labels.numpy(), kept["features"], True)


def nearest_neighbours(bank: np.ndarray, query: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of `bank` most cosine-similar to each row of `query`: indices (Q, k) and similarities (Q, k)."""
    similarity = F.normalize(torch.as_tensor(query, dtype=torch.float32), dim=1) @ \
        F.normalize(torch.as_tensor(bank, dtype=torch.float32), dim=1).T
    top, index = similarity.topk(min(k, len(bank)), dim=1)
    return index.numpy(), top.numpy()


@dataclass(frozen=True)
class FeatureMap:
    """The first MAP_POINTS test images placed in 2-D by PCA or t-SNE of their features."""
    coords: np.ndarray
    """(M, 2)"""
    labels: np.ndarray
    features: np.ndarray
    """(M, D): what the coordinates were computed from"""
    axes: PrincipalAxes | None
    """PCA's axes, which place any new row; None for t-SNE, which places only the rows it was given"""

    def place(self, rows: np.ndarray) -> np.ndarray:
        """(Q, 2) places of new feature rows: projected on PCA's axes, or on t-SNE's map at the mean place of
        each row's PLACE_NEIGHBOURS most cosine-similar map points."""
        if self.axes is not None:
            return self.axes.project(unit_rows(rows))
        index, _ = nearest_neighbours(self.features, rows, PLACE_NEIGHBOURS)
        return self.coords[index].mean(1)


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length: the cosine geometry that kNN and the loss use."""
    return rows / np.linalg.norm(rows, axis=1, keepdims=True).clip(1e-12)


def feature_map(test: TestSet, method: str, points: int = MAP_POINTS) -> FeatureMap:
    """The first `points` test images on a map by "pca" or "tsne" of their features, scaled to unit length."""
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', not {method!r}")
    rows = unit_rows(test.features[:points])
    if method == "pca":
        axes = principal_axes(rows, 2)
        return FeatureMap(axes.project(rows), test.labels[:points], rows, axes)
    return FeatureMap(tsne(rows, 2), test.labels[:points], rows, None)


@dataclass(frozen=True)
class SimilarityMatrix:
    """What NT-Xent sees in a batch of N images, two views each."""
    cosine: np.ndarray
    """(N, N): cosine similarity of view 1 of image i to view 2 of image j in the projection space"""
    partner_probability: np.ndarray
    """(N, N): softmax over each row at the temperature, the chance view 1 of i names view 2 of j as its partner"""
    loss: float
    """the NT-Xent loss of the batch at the temperature (over all 2N views)"""

    @property
    def partner_share(self) -> float:
        """The mean chance a row puts on its true partner (the diagonal)."""
        return float(np.mean(np.diag(self.partner_probability)))


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


def one_of_each_class(n: int) -> tuple[torch.Tensor, list[str]]:
    """`n` images of the shipped sample, taking the classes in turn (float (n, 1, 28, 28)), and a name for each
    in the reader's language ("1: Sneaker")."""
    sample = fashion_mnist.load_sample()
    labels = sample.labels.numpy()
    rank_in_class = np.array([(labels[:i] == label).sum() for i, label in enumerate(labels)])
    order = np.lexsort((np.arange(len(labels)), rank_in_class))[:n]
    classes = fashion_mnist.class_names()
    names = [f"{k + 1}: {classes[labels[i]]}" for k, i in enumerate(order)]
    return sample.floats()[torch.from_numpy(order)], names


@dataclass(frozen=True)
class ProbeResult:
    """A linear probe on the frozen features of a few labelled images, measured on test images."""
    accuracy: float
    labelled: int
    """labelled images it was fitted on"""
    per_class: float
    """labelled images per class, on average"""
    measured_on: int
    """test images it was measured on (those of the classes it was given)"""
    classes: int


def probe(model: SimCLR, images: np.ndarray, labels: np.ndarray, test: TestSet) -> ProbeResult:
    """A linear probe fitted on the features of labelled uint8 images (N, 28, 28) and measured on the test
    images of the classes among `labels`."""
    given = np.unique(labels)
    measured = np.isin(test.labels, given)
    fitted = LinearProbe(torch.from_numpy(embed(model, as_floats(images))), torch.from_numpy(labels).long())
    accuracy = fitted.accuracy(torch.from_numpy(test.features[measured]), torch.from_numpy(test.labels[measured]))
    return ProbeResult(accuracy, len(labels), len(labels) / len(given), int(measured.sum()), len(given))


def probe_with_few_labels(model: SimCLR, per_class: int, seed: int, test: TestSet) -> ProbeResult:
    """A linear probe on `per_class` random labelled training images of each class (the draw of `seed`)."""
    train = fashion_mnist.load("train")
    chosen = labelled_draw(train.labels, per_class, seed)
    return probe(model, train.images[chosen].numpy(), train.labels[chosen].numpy(), test)


def labelled_images(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A zip of class folders named like Fashion-MNIST's classes as uint8 (N, 28, 28) images and their labels;
    raises `zoo.uploads.UploadError` with a sentence when it cannot be used."""
    return fashion_arrays(uploads.read_class_folders(data, name))


def own_image(data: bytes, name: str) -> np.ndarray:
    """One of the person's image files made to look like Fashion-MNIST, as uint8 (28, 28)."""
    return (photos.to_fashion_tensor(uploads.load_image(data, name))[0].numpy() * 255).round().astype(np.uint8)


def as_floats(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, 28, 28) as the float (N, 1, 28, 28) in [0, 1] the encoder takes."""
    return torch.from_numpy(images).float().unsqueeze(1) / 255.0
