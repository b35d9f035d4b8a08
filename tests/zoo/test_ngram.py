"""zoo.training.ngram: interpolated Kneser-Ney as the textbook defines it, proper distributions, no infinite loss."""
import math
from collections import Counter

import numpy as np
import pytest

from zoo.training.ngram import NGramModel, compare_orders

RHYME = "the cat sat on the mat. the rat ate the hat. a cat and a rat sat on a mat. " * 20


def textbook_probability(train: str, order: int, history: str, char: str) -> float:
    """P(char | history) by counting substrings: slow, but each line is a line of the definition."""
    size = len(set(train)) + 1
    p = 1 / size
    for k in range(1, order + 1):
        h = history[max(0, len(history) - k + 1):] if k > 1 else ""
        if len(h) < k - 1:
            break
        if k == order:  # the top order counts n-grams, the lower ones how many characters precede them
            counts = Counter(train[i:i + k] for i in range(len(train) - k + 1))
        else:
            counts = Counter(gram[1:] for gram in {train[i:i + k + 1] for i in range(len(train) - k)})
        n1, n2 = sum(c == 1 for c in counts.values()), sum(c == 2 for c in counts.values())
        discount = min(max(n1 / max(n1 + 2 * n2, 1), 0.1), 0.9)
        followers = {gram: c for gram, c in counts.items() if gram[:-1] == h}
        if followers:
            total = sum(followers.values())
            p = (max(followers.get(h + char, 0) - discount, 0) + discount * len(followers) * p) / total
    return p


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("history", ["", "t", "the c", "q", "at\u2603 "])
def test_matches_the_textbook_definition(order, history):
    train = RHYME[:300] + "quiet"
    model = NGramModel.fit(train, order)
    probs = model.next_char_probs(history)
    for char in "tae q.":
        expected = textbook_probability(train, order, history, char)
        assert probs[model.alphabet.index(char)] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3, 5, 6])
@pytest.mark.parametrize("context", ["", "the", " a cat and", "zz\u2603\u2603", "mat. the"])
def test_next_character_probabilities_sum_to_one(order, context):
    probs = NGramModel.fit(RHYME, order).next_char_probs(context)
    assert probs.shape == (len(set(RHYME)) + 1,)
    assert np.all(probs > 0) and probs.sum() == pytest.approx(1.0, abs=1e-12)


def test_characters_never_seen_in_training_cost_finite_bits():
    model = NGramModel.fit(RHYME, 4)
    bits = -model.log2_probs("the \u2603 cat! Z\U0001F600")
    assert np.all(np.isfinite(bits)) and bits[4] > bits[0]
    assert math.isfinite(model.bits_per_char("xyzzy"))


def test_higher_orders_win_on_text_with_structure():
    result = compare_orders(RHYME, "the rat sat on a hat. a cat ate the mat. ", orders=(1, 2, 3, 4, 5))
    bits = result["bits_per_char"]
    assert bits[1] > bits[2] > bits[3] and bits[3] < 0.6 * bits[1]
    assert result["best_order"] >= 3 and result["best_bits_per_char"] == min(bits.values())
    assert result["seconds"] >= 0


def test_one_order_fitted_alone_equals_the_same_order_in_a_comparison():
    validation = "a rat sat on the cat. "
    alone = NGramModel.fit(RHYME, 3).bits_per_char(validation)
    assert compare_orders(RHYME, validation, orders=(1, 3, 6))["bits_per_char"][3] == pytest.approx(alone)


@pytest.mark.parametrize("order", [0, 7])
def test_orders_outside_one_to_six_are_refused(order):
    with pytest.raises(ValueError, match="between 1 and 6"):
        NGramModel.fit(RHYME, order)
