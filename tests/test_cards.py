"""Every shipped card tells the truth: its metrics are re-measured on a slice and must not drift."""
import pytest

from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.evaluate import evaluate

SLICE = 2000
TOLERANCE = 0.02  # about three standard errors of an accuracy near 0.94 on 2,000 images


@pytest.mark.parametrize("name", sorted(checkpoints.registry()))
def test_card_metrics_hold_on_a_slice(name):
    weights, card = checkpoints.paths(name)
    assert weights.is_file() and card.is_file(), f"{name} is registered but not shipped"
    if checkpoints.recipe(name).dataset == "fashion-mnist" and not fashion_mnist.is_installed():
        pytest.skip("Fashion-MNIST is not installed")
    result = evaluate(name, limit=SLICE)
    shared = [k for k, v in result["card"].items() if isinstance(v, float) and isinstance(result["measured"].get(k), float)]
    assert shared, f"{name}: the card and the re-measure share no metric"
    for key in shared:
        assert result["measured"][key] == pytest.approx(result["card"][key], abs=TOLERANCE * max(1.0, abs(result["card"][key]))), key


def test_cnn_card_meets_its_target():
    card = checkpoints.read_card("cnn-fashion")
    assert card["metrics"]["accuracy"] >= 0.94 and card["metrics"]["n"] == 10000
    assert card["parameters"] < 1_000_000
