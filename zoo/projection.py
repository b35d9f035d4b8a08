"""Flat maps of high-dimensional rows (word vectors, a VAE's codes, an encoder's features), shared by the
pages that draw them: the principal axes (PCA), which place new rows too, and t-SNE, which keeps
neighbours together but places only the rows it was given."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PrincipalAxes:
    """The directions along which rows vary most, through their mean: a window of a few dimensions on a
    space of any size."""
    center: np.ndarray
    """(D,) the rows' mean"""
    axes: np.ndarray
    """(dims, D), unit length, each signed so that its largest loading is positive (all zeros past the
    number of directions the rows have)"""
    spread: np.ndarray
    """(dims,) the rows' standard deviation along each axis"""
    share: np.ndarray
    """(dims,) the share of the rows' variance each axis explains"""

    def project(self, rows: np.ndarray) -> np.ndarray:
        """(N, dims) coordinates of rows (N, D) on the axes."""
        return (np.asarray(rows, dtype=np.float64) - self.center) @ self.axes.T

    def lift(self, points: np.ndarray) -> np.ndarray:
        """(N, D) rows at coordinates (N, dims) on the axes."""
        return self.center + np.asarray(points, dtype=np.float64) @ self.axes


def principal_axes(rows: np.ndarray, dims: int = 2) -> PrincipalAxes:
    """The `dims` principal axes of rows (N, D), by a singular value decomposition of the centred rows."""
    rows = np.asarray(rows, dtype=np.float64)
    center = rows.mean(0)
    _, singular, directions = np.linalg.svd(rows - center, full_matrices=False)
    directions = directions * np.sign(directions[np.arange(len(directions)), np.abs(directions).argmax(1)])[:, None]
    missing = max(0, dims - len(directions))
    pad = lambda values: np.pad(values[:dims], [(0, missing)] + [(0, 0)] * (values.ndim - 1))
    variance = singular ** 2
    return PrincipalAxes(center, pad(directions), pad(singular / np.sqrt(max(len(rows) - 1, 1))),
                         pad(variance / max(float(variance.sum()), 1e-12)))


def squared_distances(x: np.ndarray) -> np.ndarray:
    """(N, N) squared Euclidean distances between the rows of x (N, D), through one matrix product."""
    squares = (x * x).sum(1)
    return np.maximum(squares[:, None] + squares[None, :] - 2 * (x @ x.T), 0.0)


def _affinities(d2: np.ndarray, perplexity: float, steps: int = 64) -> np.ndarray:
    """(N, N) Gaussian affinities p(j|i) over each row's 3 x perplexity nearest neighbours (van der Maaten
    2014; every other row when there are fewer), 0 elsewhere, whose entropy is log(perplexity): by
    bisection on each row's precision, in log space, all rows at once."""
    n = len(d2)
    k = min(n - 1, int(3 * perplexity))
    off_diagonal = np.where(np.eye(n, dtype=bool), np.inf, d2)
    near = np.argpartition(off_diagonal, k - 1, axis=1)[:, :k]  # (N, k)
    d = np.take_along_axis(d2, near, 1)
    d -= d.min(1, keepdims=True)
    low, high, target = np.full(n, -30.0), np.full(n, 30.0), np.log(perplexity)
    for _ in range(steps):
        beta = np.exp((low + high) / 2)[:, None]
        p = np.exp(-d * beta)
        total = p.sum(1, keepdims=True)
        entropy = (np.log(total) + beta * (d * p).sum(1, keepdims=True) / total)[:, 0]
        wider = entropy > target  # too flat: sharpen
        low, high = np.where(wider, (low + high) / 2, low), np.where(wider, high, (low + high) / 2)
    affinities = np.zeros((n, n))
    np.put_along_axis(affinities, near, p / total, 1)
    return affinities


def tsne(x: np.ndarray, dims: int = 2, perplexity: float = 30.0, iterations: int = 750, seed: int = 0) -> np.ndarray:
    """t-SNE (van der Maaten & Hinton 2008): Gaussian affinities at `perplexity` (at most (n - 1) / 3) over
    near neighbours, exact Student-t similarities in `dims` dimensions, gradient descent with momentum,
    per-coordinate gains and early exaggeration (12x for the first 250 iterations), started from PCA scaled
    small (Kobak & Berens 2019), so it is deterministic. O(n^2) time per iteration, so callers bound n."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n < 4:
        return principal_axes(x, dims).project(x)
    p = _affinities(squared_distances(x), min(perplexity, (n - 1) / 3))
    p = ((p + p.T) / (2 * n)).astype(np.float32)
    y = principal_axes(x, dims).project(x)
    y = y / max(float(y[:, 0].std()), 1e-12) * 1e-4 + np.random.default_rng(seed).normal(0, 1e-8, y.shape)
    update, gains, rate = np.zeros_like(y), np.ones_like(y), max(n / 12, 50.0)
    for it in range(iterations):
        early = it < 250
        grad = _gradient(p, y, 12.0 if early else 1.0)
        same = (grad > 0) == (update > 0)
        gains = np.maximum(np.where(same, gains * 0.8, gains + 0.2), 0.01)
        update = (0.5 if early else 0.8) * update - rate * gains * grad
        y = y + update
        y -= y.mean(0)
    return y


def _gradient(p: np.ndarray, y: np.ndarray, exaggeration: float, block: int = 128) -> np.ndarray:
    """The gradient of KL(P || Q) at the map y (N, dims): 4 sum_j (e p_ij - q_ij) w_ij (y_i - y_j), with
    w_ij = 1 / (1 + |y_i - y_j|^2) and q_ij = w_ij / Z, taken `block` rows at a time so that each block's
    (block, N) matrices stay in the processor's cache (with float32, 3 times faster here than whole float64 matrices)."""
    y32 = y.astype(np.float32)
    squares = (y32 * y32).sum(1)
    attraction, repulsion, total = np.zeros_like(y), np.zeros_like(y), 0.0
    for start in range(0, len(y), block):
        rows = slice(start, start + block)
        w = y32[rows] @ y32.T
        w *= -2.0
        w += squares[rows, None]
        w += squares[None, :] + 1.0
        np.maximum(w, 1.0, out=w)
        np.reciprocal(w, out=w)
        w[np.arange(w.shape[0]), np.arange(start, start + w.shape[0])] = 0.0
        total += w.sum(dtype=np.float64)
        pulled = p[rows] * w
        attraction[rows] = pulled.sum(1, dtype=np.float64)[:, None] * y[rows] - pulled @ y32
        w *= w
        repulsion[rows] = w.sum(1, dtype=np.float64)[:, None] * y[rows] - w @ y32
    return 4 * (exaggeration * attraction - repulsion / total)
