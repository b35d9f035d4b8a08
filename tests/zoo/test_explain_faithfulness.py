"""Deletion and insertion on a linear classifier whose truth is known: ranking the pixels by their true share
of the score gives the best areas, the reverse ranking the worst, and random rankings fall between."""
import numpy as np
import pytest

from tests.zoo.explain_models import image, linear_reader
from zoo.explain.faithfulness import SHARES, deletion_insertion, ranking


@pytest.fixture
def truth():
    model, x = linear_reader(), image()
    return model, x, model[1].weight[0].detach().view(28, 28).numpy() * x[0, 0].numpy()


def test_the_true_ranking_wins_and_the_reverse_loses(truth):
    model, x, shares = truth
    ideal = deletion_insertion(model, x, 0, shares)
    reverse = deletion_insertion(model, x, 0, -shares)
    rng = np.random.default_rng(0)
    random = [deletion_insertion(model, x, 0, rng.random((28, 28))) for _ in range(5)]
    for other in random + [reverse]:
        assert ideal.deletion_area < other.deletion_area
        assert ideal.insertion_area > other.insertion_area
        assert np.all(ideal.deletion <= other.deletion + 1e-6)  # pointwise: each share removes the most score
    for other in random:
        assert reverse.deletion_area > other.deletion_area
        assert reverse.insertion_area < other.insertion_area
    assert ideal.score > max(r.score for r in random) > reverse.score


def test_the_curves_start_and_end_where_they_must(truth):
    model, x, shares = truth
    curves = deletion_insertion(model, x, 0, shares)
    assert len(curves.shares) == SHARES + 1 and curves.shares[0] == 0 and curves.shares[-1] == 1
    assert curves.deletion[0] == pytest.approx(curves.insertion[-1])  # the whole image
    assert curves.deletion[-1] == pytest.approx(curves.insertion[0])  # a black one
    assert curves.deletion[0] == pytest.approx(1 / (1 + np.exp(-2.0)), abs=1e-5)  # the reader's margin of 2


def test_equal_values_are_ranked_in_a_seeded_random_order():
    flat = np.zeros((28, 28))
    flat[0, 0] = 1
    order = ranking(flat)
    assert order[0] == 0
    assert not np.array_equal(order[1:20], np.arange(1, 20))  # not the top row first
    assert np.array_equal(order, ranking(flat))
