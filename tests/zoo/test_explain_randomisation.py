"""The model-randomisation check: a map that reads the model changes when the top layer is random, a map that
ignores the model does not, and the model itself is never touched."""
import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.explain.attributions import grad_cam, input_x_gradient, integrated_gradients, saliency
from zoo.explain.randomisation import rank_correlation, top_layer, with_random_top_layer


@pytest.fixture(scope="module")
def cnn():
    return checkpoints.load("cnn-fashion", "cpu")[0]


def test_maps_that_read_the_top_layer_change_with_it(cnn):
    x = fashion_mnist.load_sample().floats()[:1]
    target = int(cnn(x).argmax())
    randomised = with_random_top_layer(cnn)
    for method in (saliency, grad_cam):
        correlation = rank_correlation(method(cnn, x, target).values, method(randomised, x, target).values)
        assert correlation < 0.5, (method.__name__, correlation)


def test_maps_weighted_by_the_image_hardly_change(cnn):
    """Adebayo et al.'s warning, on this CNN: input x gradient and integrated gradients from black are zero on the
    black background whatever the weights, so their ranks are mostly the garment's outline."""
    x = fashion_mnist.load_sample().floats()[:1]
    target = int(cnn(x).argmax())
    randomised = with_random_top_layer(cnn)
    for method in (input_x_gradient, lambda m, x, t: integrated_gradients(m, x, t, torch.zeros_like(x), steps=16)):
        assert rank_correlation(method(cnn, x, target).values, method(randomised, x, target).values) > 0.8


def test_a_map_that_ignores_the_model_correlates_fully():
    pixels = fashion_mnist.load_sample().floats()[0, 0].numpy()  # "the map is the image": the same before and after
    assert rank_correlation(pixels, pixels.copy()) == pytest.approx(1.0)


def test_only_a_copy_is_randomised(cnn):
    before = {k: v.clone() for k, v in cnn.state_dict().items()}
    randomised = with_random_top_layer(cnn)
    assert all(torch.equal(before[k], v) for k, v in cnn.state_dict().items())
    changed = {k for k, v in randomised.state_dict().items() if not torch.equal(before[k], v)}
    assert changed == {"head.6.weight", "head.6.bias"} and top_layer(cnn) is cnn.head[6]
    assert all(torch.equal(a, b) for a, b in zip(with_random_top_layer(cnn).state_dict().values(),
                                                 randomised.state_dict().values()))  # seeded: the same each time


def test_rank_correlation_is_spearmans_on_magnitudes_with_ties():
    rng = np.random.default_rng(0)
    a, b = rng.integers(-3, 4, (28, 28)), rng.integers(-3, 4, (28, 28))
    assert rank_correlation(a, b) == pytest.approx(spearmanr(np.abs(a).ravel(), np.abs(b).ravel()).statistic)
    assert rank_correlation(a, -a) == pytest.approx(1.0)
    assert np.isnan(rank_correlation(a, np.zeros((28, 28))))
