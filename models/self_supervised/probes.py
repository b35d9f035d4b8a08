"""How a representation is measured with labels it never trained on: features of frozen images,
a weighted k-nearest-neighbour vote (Wu et al. 2018, as SimCLR-style papers report it) and a linear
probe (a logistic regression on the frozen features), on any (N, D) feature arrays."""
from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F

from zoo import devices

KNN_K = 200
"""neighbours that vote (Wu et al. 2018)"""
KNN_TEMPERATURE = 0.1
"""a neighbour's vote is exp(cosine similarity / this): the nearest count most"""
PROBE_WEIGHT_DECAY = 1e-4
"""the L2 penalty of the linear probe, per feature weight, on standardised features"""


@torch.no_grad()
def features(encoder: torch.nn.Module, images: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """The frozen encoder's features (N, D) on the CPU for float images (N, 1, 28, 28) in [0, 1], through
    `devices.inference_copy`, 100 images a batch (2,000 took 3.47 s so, 4.14 s at 500, on one AVX2 thread: the
    activations fit the cache)."""
    device = next(encoder.parameters()).device
    frozen = devices.inference_copy(encoder)
    return torch.cat([frozen(images[i:i + batch_size].to(device)).float().cpu()
                      for i in range(0, len(images), batch_size)])


@torch.no_grad()
def knn_predict(train_features: torch.Tensor, train_labels: torch.Tensor, query: torch.Tensor,
                k: int = KNN_K, temperature: float = KNN_TEMPERATURE, n_classes: int = 10) -> torch.Tensor:
    """The class each query row wins by the vote of its k most cosine-similar training rows,
    each weighing exp(similarity / temperature)."""
    bank, k = F.normalize(train_features, dim=1), min(k, len(train_features))
    predicted = []
    for start in range(0, len(query), 1000):
        similarity = F.normalize(query[start:start + 1000], dim=1) @ bank.T  # (B, N_train)
        top, index = similarity.topk(k, dim=1)
        votes = torch.zeros(len(top), n_classes).scatter_add_(1, train_labels[index], (top / temperature).exp())
        predicted.append(votes.argmax(1))
    return torch.cat(predicted)


def knn_accuracy(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                 test_labels: torch.Tensor, **options) -> float:
    return (knn_predict(train_features, train_labels, test_features, **options) == test_labels).float().mean().item()


class LinearProbe:
    """A logistic regression on standardised frozen features, fitted by full-batch L-BFGS (a convex
    problem: the same features give the same probe)."""

    def __init__(self, train_features: torch.Tensor, train_labels: torch.Tensor, n_classes: int = 10,
                 weight_decay: float = PROBE_WEIGHT_DECAY, max_iter: int = 300):
        self.mean = train_features.mean(0)
        self.std = train_features.std(0, unbiased=False).clamp_min(1e-6)
        x = self.standardise(train_features)
        self.linear = torch.nn.Linear(x.shape[1], n_classes)
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)
        optimizer = torch.optim.LBFGS(self.linear.parameters(), lr=1, max_iter=max_iter,
                                      history_size=20, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = F.cross_entropy(self.linear(x), train_labels) + weight_decay * self.linear.weight.pow(2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)

    def standardise(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.mean) / self.std

    @torch.no_grad()
    def predict(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(self.standardise(features)).argmax(1)

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        return (self.predict(features) == labels).float().mean().item()


class ProbeClassifier(torch.nn.Module):
    """A frozen encoder and a fitted linear probe as one image classifier, float (N, 1, 28, 28) in [0, 1] ->
    (N, n_classes) logits, with the encoder's feature maps open for Grad-CAM. The encoder is used, not copied, in
    the mode it is in (eval, as loaded): nothing here changes it."""

    def __init__(self, encoder: torch.nn.Module, probe: LinearProbe, summary: str | Callable[[], str] = ""):
        super().__init__()
        device = next(encoder.parameters()).device
        self.encoder = encoder
        self.register_buffer("mean", probe.mean.to(device))
        self.register_buffer("std", probe.std.to(device))
        self.linear = copy.deepcopy(probe.linear).to(device).requires_grad_(False)
        self._summary = summary

    @property
    def summary(self) -> str:
        """One sentence on what the probe was fitted on and how well it classifies, in the reader's language: a
        callable summary is asked anew each time, since one classifier serves every visitor."""
        return self._summary() if callable(self._summary) else self._summary

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.encoder.feature_maps(x)

    def head_from_map(self, last_map: torch.Tensor) -> torch.Tensor:
        """Logits from the encoder's last feature map: pooled, standardised, read by the probe."""
        return self.linear((last_map.mean(dim=(2, 3)) - self.mean) / self.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head_from_map(self.feature_maps(x)[-1])
