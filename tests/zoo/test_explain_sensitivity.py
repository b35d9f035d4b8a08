"""The attack that flips a prediction: it flips a linear reader as soon as epsilon allows and not before, and
never leaves the epsilon ball or [0, 1]."""
import numpy as np
import pytest

from tests.zoo.explain_models import READ, image, linear_reader
from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.explain.sensitivity import flip_prediction


def _needed(model) -> float:
    """The smallest epsilon that can flip the reader: its margin over the sum of its weights' sizes."""
    return 2.0 / float(model[1].weight[0, READ].detach().abs().sum())


def test_the_reader_flips_once_epsilon_allows_it():
    model, x = linear_reader(), image()
    needed = _needed(model)
    flip = flip_prediction(model, x, epsilon=1.5 * needed)
    assert flip.flipped and flip.original_class == 0 and flip.new_class == 1 and flip.new_probability > 0.5
    assert needed - 1e-6 <= flip.size <= 1.5 * needed + 1e-6
    assert np.allclose(flip.image - x[0, 0].numpy(), flip.perturbation, atol=1e-6)
    assert 0 <= flip.image.min() and flip.image.max() <= 1


def test_within_too_small_an_epsilon_it_does_not_flip():
    model, x = linear_reader(), image()
    flip = flip_prediction(model, x, epsilon=0.8 * _needed(model))
    assert not flip.flipped and flip.new_class == 0 and flip.steps == 20
    assert flip.size <= 0.8 * _needed(model) + 1e-6


def test_a_real_garment_stays_in_the_ball_and_in_0_1():
    model, _ = checkpoints.load("cnn-fashion", "cpu")
    x = fashion_mnist.load_sample().floats()[:1]  # black background: half of the ball is cut off at 0
    flip = flip_prediction(model, x, epsilon=0.1)
    assert flip.size <= 0.1 + 1e-6 and 0 <= flip.image.min() and flip.image.max() <= 1
    assert flip.original_probability > 0.5


def test_an_epsilon_out_of_range_is_refused():
    with pytest.raises(ValueError, match="epsilon"):
        flip_prediction(linear_reader(), image(), epsilon=2.0)
    with pytest.raises(ValueError, match="epsilon"):
        flip_prediction(linear_reader(), image(), epsilon=0.0)
