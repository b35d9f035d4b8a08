"""Every shipped card tells the truth: its metrics are re-measured on a slice and must not drift."""
import pytest

from zoo import checkpoints
from zoo.charlm import CharLMRecipe
from zoo.data import fashion_mnist, text
from zoo.evaluate import evaluate

SLICE = 2000
"""images, or analogy questions"""
CHARACTERS = 40_000
"""a character model's slice: 20 pieces spread over the validation split (`zoo.charlm.validation_sample`)"""
TOLERANCE = 0.02  # about three standard errors of an accuracy near 0.94 on 2,000 images


@pytest.mark.parametrize("name", sorted(checkpoints.registry()))
def test_card_metrics_hold_on_a_slice(name):
    weights, card = checkpoints.paths(name)
    assert weights.is_file() and card.is_file(), f"{name} is registered but not shipped"
    recipe = checkpoints.recipe(name)
    if recipe.dataset == "fashion-mnist" and not fashion_mnist.is_installed():
        pytest.skip("Fashion-MNIST is not installed")
    result = evaluate(name, limit=CHARACTERS if isinstance(recipe, CharLMRecipe) else SLICE)
    shared = [k for k, v in result["card"].items() if isinstance(v, float) and isinstance(result["measured"].get(k), float)]
    assert shared, f"{name}: the card and the re-measure share no metric"
    for key in shared:
        assert result["measured"][key] == pytest.approx(result["card"][key], abs=TOLERANCE * max(1.0, abs(result["card"][key]))), key


def test_cnn_card_meets_its_target():
    card = checkpoints.read_card("cnn-fashion")
    assert card["metrics"]["accuracy"] >= 0.94 and card["metrics"]["n"] == 10000
    assert card["parameters"] < 1_000_000


def character_models() -> list[str]:
    return sorted(name for name in checkpoints.registry() if isinstance(checkpoints.recipe(name), CharLMRecipe))


@pytest.mark.parametrize("name", character_models())
def test_character_cards_measure_the_whole_validation_split_and_beat_the_ngram(name):
    card = checkpoints.read_card(name)
    metrics = card["metrics"]
    assert metrics["n"] == len(text.load("validation"))
    assert len(card["vocab"]) == card["config"]["vocab_size"]
    assert card["steps"] == card["training"]["steps"], "the card is of a finished training run"
    assert metrics["bits_per_char"] < metrics["ngram_bits_per_char"]


def test_recurrent_cards_meet_their_targets():
    """Gated cells beat the vanilla RNN and the n-gram; the best cell is at most 1.8 bits per character;
    all three have the same parameter budget (within 1%)."""
    cards = {name: checkpoints.read_card(name) for name in ("rnn-text", "gru-text", "lstm-text")}
    bpc = {name: card["metrics"]["bits_per_char"] for name, card in cards.items()}
    for gated in ("gru-text", "lstm-text"):
        assert bpc[gated] < bpc["rnn-text"] and bpc[gated] < cards[gated]["metrics"]["ngram_bits_per_char"]
    assert min(bpc.values()) <= 1.8
    sizes = [card["parameters"] for card in cards.values()]
    assert max(sizes) <= 1.01 * min(sizes)
