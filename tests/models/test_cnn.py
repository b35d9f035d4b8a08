"""models.cnn and the classifier recipe: shapes, a loss that goes down, a CLI round trip."""
import json

import pytest
import torch

from models.cnn.model import CNNConfig, FashionCNN
from zoo import checkpoints, evaluate, train
from zoo.data import fashion_mnist
from zoo.explain.inspection import inspect_image
from zoo.training.image_classifier import evaluate_classifier, predict_proba
from zoo.training.loop import make_optimizer, train_steps

needs_dataset = pytest.mark.skipif(not fashion_mnist.is_installed(), reason="Fashion-MNIST is not installed")


def test_shapes_and_size():
    model = FashionCNN(CNNConfig())
    x = torch.rand(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    assert [tuple(m.shape[1:]) for m in model.feature_maps(x)] == [(32, 28, 28), (32, 28, 28), (64, 14, 14), (64, 14, 14)]
    assert model.features(x).shape == (5, 256)
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_normalisation_is_inside_the_model():
    model = FashionCNN(CNNConfig())
    assert {"mean", "std"} <= set(model.state_dict())


def test_train_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = FashionCNN(CNNConfig(channels=(8, 16), hidden=32))
    sample = fashion_mnist.load_sample()
    batch = (sample.floats()[:32], sample.labels[:32])
    optimizer, _ = make_optimizer(model, 3e-3)
    events = list(train_steps(model, iter([batch] * 30), optimizer, 30))
    assert [e["step"] for e in events] == list(range(1, 31))
    assert events[-1]["loss"] < 0.5 * events[0]["loss"]
    assert not model.training


def test_inspection_of_one_image():
    model = FashionCNN(CNNConfig(channels=(8, 16), hidden=32)).eval()
    look = inspect_image(model, torch.rand(1, 28, 28))
    assert look.probs.shape == (10,) and abs(look.probs.sum() - 1) < 1e-5
    assert look.saliency.shape == (28, 28) and look.saliency.max() == pytest.approx(1.0)
    assert look.grad_cam.shape == (28, 28)
    assert [m.shape[0] for m in look.feature_maps] == [8, 8, 16, 16]


def test_evaluate_classifier_counts_the_confusion():
    model = FashionCNN(CNNConfig(channels=(8, 16), hidden=32)).eval()
    sample = fashion_mnist.load_sample()
    result = evaluate_classifier(model, sample.floats(), sample.labels)
    assert sum(map(sum, result["confusion"])) == 100
    predicted = predict_proba(model, sample.floats()).argmax(1)
    assert result["accuracy"] == pytest.approx((predicted == sample.labels).float().mean().item())


@needs_dataset
def test_train_cli_resumes_and_writes_a_loadable_card(checkpoint_dir, capsys):
    train.main(["cnn-fashion", "--max-steps", "2", "--save-every", "1", "--device", "cpu"])
    card = json.loads((checkpoint_dir / "cnn-fashion.json").read_text())
    assert card["steps"] == 2 and card["train_command"] == "python -m zoo.train cnn-fashion"
    assert not (checkpoint_dir / ".train" / "cnn-fashion.pt").exists()
    model, _ = checkpoints.load("cnn-fashion", "cpu")
    assert model(torch.rand(1, 1, 28, 28)).shape == (1, 10)
    evaluate.main(["cnn-fashion", "--limit", "200", "--json"])
    measured = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert measured["n"] == 200 and 0 <= measured["accuracy"] <= 1


@needs_dataset
def test_recipe_fit_resumes_from_its_state():
    recipe = checkpoints.recipe("cnn-fashion")
    model = recipe.build()
    state: dict = {}
    for event in recipe.fit(model, torch.device("cpu"), state):
        if event["step"] == 2:
            break
    assert state["step"] == 2
    resumed = recipe.build()
    first = next(iter(recipe.fit(resumed, torch.device("cpu"), state)))
    assert first["step"] == 3
