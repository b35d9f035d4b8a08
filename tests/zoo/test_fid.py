"""zoo.training.fid: FID in the CNN's feature space and class coverage."""
import numpy as np
import pytest
import torch

from zoo.data import fashion_mnist
from zoo.training import fid

needs_dataset = pytest.mark.skipif(not fashion_mnist.is_installed(), reason="Fashion-MNIST is not installed")


def _stats(mean, covariance):
    return fid.FeatureStats(np.asarray(mean, float), np.asarray(covariance, float), np.full(10, 0.1), 100)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    a = _stats([0, 0], np.diag([1.0, 4.0]))
    b = _stats([3, 4], np.diag([9.0, 1.0]))
    # |mu|^2 + sum (sqrt(a_i) - sqrt(b_i))^2 = 25 + (1 - 3)^2 + (2 - 1)^2
    assert fid.frechet_distance(a, b) == pytest.approx(30.0)
    assert fid.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_a_set_against_itself_is_zero():
    stats = fid.feature_stats(fashion_mnist.load_sample().floats())
    assert fid.frechet_distance(stats, stats) == pytest.approx(0.0, abs=1e-6)


@needs_dataset
def test_noise_is_far_from_real_images_and_real_images_are_near_each_other():
    test = fashion_mnist.load("test").floats()
    real_a, real_b = fid.feature_stats(test[:1000]), fid.feature_stats(test[1000:2000])
    noise = fid.feature_stats(torch.rand(1000, 28, 28, generator=torch.Generator().manual_seed(0)))
    assert fid.frechet_distance(noise, real_b) > 20 * fid.frechet_distance(real_a, real_b)


def test_coverage_counts_the_classes_the_cnn_sees():
    sample = fashion_mnist.load_sample()
    trousers = sample.floats()[sample.labels == 1]
    shares = fid.feature_stats(trousers).class_shares
    assert shares.sum() == pytest.approx(1.0)
    assert shares.argmax() == 1 and shares[1] > 0.9


def test_too_few_images_is_an_error():
    with pytest.raises(ValueError, match="at least two"):
        fid.feature_stats(np.zeros((1, 28, 28)))


@needs_dataset
def test_quality_of_real_images_sits_near_the_floor():
    train = fashion_mnist.load("train")
    figures = fid.quality(train.floats()[-2000:])
    assert figures["fid_real_floor"] < figures["fid"] < 3 * figures["fid_real_floor"] + 1
    assert figures["classes_covered"] == 10
    assert 0.05 < figures["coverage_min_share"] <= 0.1 <= figures["coverage_max_share"] < 0.15
