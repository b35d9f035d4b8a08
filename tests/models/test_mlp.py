"""models.mlp: the Fashion-MNIST MLP's shapes, a loss that goes down, a look inside it, its
recipe in the registry, a CLI round trip and its shipped card."""
import numpy as np
import pytest
import torch

from models.mlp.explore import look_inside
from models.mlp.model import FashionMLP, MLPConfig
from zoo import checkpoints
from zoo.data import fashion_mnist
from zoo.explain.inspection import inspect_image
from zoo.training.loop import make_optimizer, train_steps

TINY = MLPConfig(hidden=(64, 32), dropout=0.1, input_dropout=0.0)


def test_fashion_mlp_shapes_and_normalisation_inside():
    model = FashionMLP(MLPConfig())
    x = torch.rand(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    assert [h.shape for h in model.hidden_activations(x)] == [(5, 1024), (5, 512), (5, 256)]
    assert model.templates().shape == (1024, 28, 28)
    assert {"mean", "std"} <= set(model.state_dict())


def test_fashion_mlp_loss_goes_down_on_a_fixed_batch():
    torch.manual_seed(0)
    model = FashionMLP(TINY)
    sample = fashion_mnist.load_sample()
    batch = (sample.floats()[:32], sample.labels[:32])
    optimizer, _ = make_optimizer(model, 3e-3)
    events = list(train_steps(model, iter([batch] * 25), optimizer, 25, label_smoothing=0.1))
    assert events[-1]["loss"] < 0.5 * events[0]["loss"]


def test_looking_inside_one_image():
    model = FashionMLP(TINY).eval()
    image = torch.rand(1, 28, 28)
    inside = look_inside(model, image, k=8)
    assert [a.shape for a in inside.activations] == [(2, 32), (1, 32)]
    assert inside.templates.shape == (8, 28, 28) and len(inside.top_units) == 8
    assert np.all(np.diff(inside.top_values) <= 0)
    look = inspect_image(model, image)  # a model without feature maps: saliency, no Grad-CAM
    assert look.probs.shape == (10,) and look.saliency.shape == (28, 28) and look.grad_cam is None


def test_mlp_fashion_is_registered_and_rebuilds_from_its_card_config():
    recipe = checkpoints.recipe("mlp-fashion")
    config = {**recipe.config_dict(), "hidden": [32, 16]}  # as JSON gives it back: a list
    assert recipe.build(config)(torch.rand(2, 1, 28, 28)).shape == (2, 10)


needs_dataset = pytest.mark.skipif(not fashion_mnist.is_installed(), reason="Fashion-MNIST is not installed")


@needs_dataset
def test_train_cli_writes_a_loadable_mlp_card(checkpoint_dir):
    from zoo import train
    train.main(["mlp-fashion", "--max-steps", "3", "--device", "cpu"])
    model, card = checkpoints.load("mlp-fashion", "cpu")
    assert card["steps"] == 3 and card["train_command"] == "python -m zoo.train mlp-fashion"
    assert isinstance(model, FashionMLP) and model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_shipped_mlp_card_meets_its_target():
    card = checkpoints.read_card("mlp-fashion")
    assert card["metrics"]["accuracy"] >= 0.895 and card["metrics"]["n"] == 10000
    assert len(card["metrics"]["confusion"]) == 10
