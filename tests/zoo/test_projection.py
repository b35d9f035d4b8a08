"""zoo.projection: principal axes that place new rows and lift points back, t-SNE that keeps clusters apart,
deterministic and bounded in cost."""
import time

import numpy as np

from zoo.projection import _gradient, principal_axes, squared_distances, tsne


def _two_clusters(n=30, d=20, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 0.1, (n, d)) + 1, rng.normal(0, 0.1, (n, d)) - 1])


def test_principal_axes_find_the_widest_directions_and_lift_back_onto_the_plane():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(500, 5)) * np.array([5.0, 2.0, 0.1, 0.1, 0.1])
    axes = principal_axes(rows)
    assert np.abs(axes.axes @ axes.axes.T - np.eye(2)).max() < 1e-9
    assert abs(axes.axes[0, 0] - 1) < 0.01 and abs(axes.axes[1, 1] - 1) < 0.01  # signed: largest loading positive
    assert abs(axes.spread[0] - 5) < 0.5
    assert axes.share[0] > 0.8 and axes.share.sum() > 0.99
    points = np.array([[1.0, -2.0], [0.5, 0.5]])
    assert np.allclose(axes.project(axes.lift(points)), points)
    assert np.allclose(axes.project(rows).std(0, ddof=1), axes.spread)


def test_principal_axes_of_fewer_rows_than_dimensions_pad_with_zeros():
    axes = principal_axes(np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 2.0]]), dims=3)
    assert axes.project(np.zeros((1, 3))).shape == (1, 3)
    assert np.allclose(axes.axes[2], 0) and np.allclose(axes.share, [1, 0, 0])  # two rows: two directions at most


def test_tsne_separates_two_clusters_and_is_deterministic():
    x = _two_clusters()
    for dims in (2, 3):
        y = tsne(x, dims)
        assert y.shape == (60, dims) and np.isfinite(y).all()
        within = np.linalg.norm(y[:30] - y[:30].mean(0), axis=1).mean()
        assert np.linalg.norm(y[:30].mean(0) - y[30:].mean(0)) > 3 * within
    np.testing.assert_array_equal(tsne(x[:10]), tsne(x[:10]))
    assert tsne(x[:3]).shape == (3, 2)  # too few points for neighbours: their PCA


def test_blocked_gradient_matches_the_whole_matrix_formula():
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=(50, 2)), rng.random((50, 50))
    p = ((p + p.T) / (p + p.T).sum()).astype(np.float32)
    np.fill_diagonal(p, 0)
    w = 1 / (1 + squared_distances(y))
    np.fill_diagonal(w, 0)
    pq = (12 * p - w / w.sum()) * w
    expected = 4 * (pq.sum(1, keepdims=True) * y - pq @ y)
    np.testing.assert_allclose(_gradient(p, y, 12.0, block=16), expected, rtol=1e-4, atol=1e-6)


def test_tsne_of_a_map_of_2000_points_keeps_classes_together_in_bounded_time():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 10, 2000)
    x = rng.normal(size=(10, 64))[labels] * 3 + rng.normal(size=(2000, 64))
    started = time.perf_counter()
    y = tsne(x, iterations=300)
    seconds = time.perf_counter() - started
    distances = squared_distances(y)
    np.fill_diagonal(distances, np.inf)
    assert (labels[distances.argmin(1)] == labels).mean() > 0.95
    assert seconds < 60, f"300 iterations at 2,000 points took {seconds:.0f} s"
