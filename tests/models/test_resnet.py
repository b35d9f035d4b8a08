"""models.resnet, the residual demo and transfer learning: shapes, shortcuts, a loss that goes
down, gradient norms per layer, and both transfer modes on a tiny generated data set."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from models.resnet.model import BasicBlock, ResNet, ResNetConfig
from models.resnet.plain_vs_residual import compare_training, gradient_table
from models.resnet.transfer import TransferNet, class_arrays, load_adapted, transfer
from tests.helpers import consume
from zoo import checkpoints
from zoo.checkpoints import read_metadata
from zoo.data import fashion_mnist
from zoo.explain.inspection import inspect_image
from zoo.training.loop import make_optimizer, train_steps
from zoo.uploads import ClassFolders

TINY = ResNetConfig(width=4, blocks=(1, 1, 1))


def test_shapes_size_and_depth():
    config = checkpoints.recipe("resnet-fashion").config
    model = ResNet(config)
    x = torch.rand(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    w = config.width
    assert [tuple(m.shape[1:]) for m in model.feature_maps(x)] == [(w, 28, 28), (2 * w, 14, 14), (4 * w, 7, 7)]
    assert model.features(x).shape == (3, 4 * w)
    assert torch.allclose(model.head_from_map(model.feature_maps(x)[-1]), model(x), atol=1e-5)
    assert sum(p.numel() for p in model.parameters()) < 5_000_000
    assert len(model.conv_layers()) == config.depth - 1  # every weighted layer but the classifier
    assert {"mean", "std"} <= set(model.state_dict())


def test_plain_net_has_no_shortcuts_and_same_depth():
    plain = ResNet(ResNetConfig(width=8, blocks=(2, 2, 2), residual=False))
    residual = ResNet(ResNetConfig(width=8, blocks=(2, 2, 2)))
    blocks = [m for m in plain.modules() if isinstance(m, BasicBlock)]
    assert blocks and all(not b.residual and b.shortcut is None for b in blocks)
    assert not any("shortcut" in name for name in plain.state_dict())
    assert any("shortcut" in name for name in residual.state_dict())
    assert len(plain.conv_layers()) == len(residual.conv_layers())


def test_a_residual_block_adds_its_input():
    block = BasicBlock(4, 4, 1, residual=True).eval()  # zero-initialised last norm: starts as the identity
    x = torch.rand(2, 4, 7, 7)
    assert torch.allclose(block(x), x)
    assert not torch.allclose(BasicBlock(4, 4, 1, residual=False).eval()(x), x)


def test_without_batch_norm_there_is_none():
    model = ResNet(ResNetConfig(width=4, blocks=(1, 1, 1), batch_norm=False))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_train_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = ResNet(ResNetConfig(width=8, blocks=(1, 1, 1)))
    sample = fashion_mnist.load_sample()
    batch = (sample.floats()[:32], sample.labels[:32])
    optimizer, _ = make_optimizer(model, 1e-2)
    events = list(train_steps(model, iter([batch] * 30), optimizer, 30))
    assert events[-1]["loss"] < 0.5 * events[0]["loss"]
    assert not model.training


def test_inspection_gives_grad_cam_at_the_last_stage():
    model = ResNet(TINY).eval()
    look = inspect_image(model, torch.rand(1, 28, 28))
    assert look.probs.shape == (10,) and look.grad_cam.shape == (28, 28)
    assert [m.shape for m in look.feature_maps] == [(4, 28, 28), (8, 14, 14), (16, 7, 7)]


def test_channels_last_training_saves_plain_weights(checkpoint_dir):
    recipe = checkpoints.recipe("resnet-fashion")
    assert recipe.training.channels_last
    model = ResNet(TINY)
    model.to(memory_format=torch.channels_last)
    card = checkpoints.save("resnet-fashion", model, {"config": vars(TINY) | {"blocks": [1, 1, 1]}, "metrics": {}})
    loaded = ResNet(TINY)
    checkpoints.load_state_bytes(loaded, (checkpoint_dir / "resnet-fashion.safetensors").read_bytes())
    assert card["parameters"] == sum(p.numel() for p in loaded.parameters())


def test_residual_demo_yields_both_losses_and_gradient_norms():
    events, final = consume(compare_training(blocks=2, width=4, steps=6, n_train=64, batch_size=16, report_every=2))
    assert events[0]["depth"] == 14 and events[0]["layers"] == 13
    reports = events[1:]
    assert [e["step"] for e in reports] == [2, 4, 6]
    for e in reports:
        assert np.isfinite(e["loss_plain"]) and np.isfinite(e["loss_residual"])
        assert len(e["grad_plain"]) == len(e["grad_residual"]) == 13
    assert set(final) == {"plain", "residual"}
    steps, table = gradient_table(events, "plain")
    assert steps == [2, 4, 6] and table.shape == (13, 3)


def test_plain_net_gradient_vanishes_towards_the_input_without_batch_norm():
    events, _ = consume(compare_training(blocks=5, width=4, steps=2, n_train=64, batch_size=16, report_every=2))
    plain, residual = events[-1]["grad_plain"], events[-1]["grad_residual"]
    assert plain[0] < 1e-4 * plain[-1]  # orders of magnitude smaller at the first layer
    assert residual[0] > 1e-2 * residual[-1]


@pytest.fixture
def tiny_resnet_checkpoint(checkpoint_dir):
    """An untrained, small resnet-fashion written with a card, as `zoo.train` would."""
    torch.manual_seed(0)
    model = ResNet(TINY).eval()
    config = vars(TINY) | {"blocks": [1, 1, 1]}
    return checkpoints.save("resnet-fashion", model, {
        "title": "ResNet", "dataset": "fashion-mnist", "config": config, "steps": 0, "device": "CPU",
        "wall_time_s": 0.0, "metrics": {"accuracy": 0.1, "loss": 2.3, "n": 10}})


def _shapes(n: int = 6) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Two classes the body can tell apart: bright squares and bright discs, photo-sized."""
    folders = ClassFolders(images=[], labels=[], classes=["discs", "squares"])
    rng = np.random.default_rng(0)
    for label in (0, 1):
        for _ in range(n):
            image = Image.new("L", (120, 90), "white")
            x, y, r = rng.integers(30, 60), rng.integers(25, 45), rng.integers(15, 25)
            shape = ImageDraw.Draw(image).ellipse if label == 0 else ImageDraw.Draw(image).rectangle
            shape([x - r, y - r, x + r, y + r], fill="black")
            folders.images.append(image)
            folders.labels.append(label)
    images, labels = class_arrays(folders)
    return images, labels, folders.classes


@pytest.mark.parametrize("mode", ["features", "finetune"])
def test_transfer_trains_a_new_head_and_reports_per_class(tiny_resnet_checkpoint, mode):
    images, labels, classes = _shapes()
    assert images.shape == (12, 28, 28) and images.dtype == np.uint8
    body, _ = checkpoints.load("resnet-fashion", "cpu")
    events, payload = consume(transfer("resnet-fashion", images, labels, classes, mode=mode, steps=6, eval_every=3))
    assert events[0]["n_train"] + events[0]["n_held_out"] == 12 and events[0]["classes"] == classes
    assert [e["step"] for e in events if "loss" in e] == list(range(1, 7))
    final = events[-1]["held_out"]
    assert set(final["per_class"]) == set(classes) and sum(t for _, t in final["per_class"].values()) == 4
    assert read_metadata(payload)["classes"] == '["discs", "squares"]'
    adapted, names = load_adapted(payload, "cpu")
    assert names == classes and adapted(torch.rand(2, 1, 28, 28)).shape == (2, 2)
    changed = [not torch.equal(body.state_dict()[k], v) for k, v in adapted.body.state_dict().items()]
    if mode == "features":
        assert not any(changed)  # the frozen body, batch-norm statistics included, is exactly the shipped one
    else:
        assert any(changed)


def test_feature_extraction_trains_only_the_head():
    model = TransferNet(ResNet(TINY), n_classes=3, frozen=True)
    assert all(not p.requires_grad for p in model.body.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    model.train()
    assert not model.body.training and model.head.training


def test_transfer_works_for_the_cnn_too(tiny_cnn_checkpoint):
    images, labels, classes = _shapes(4)
    events, payload = consume(transfer("cnn-fashion", images, labels, classes, steps=3))
    adapted, names = load_adapted(payload, "cpu")
    assert names == classes and adapted(torch.rand(1, 1, 28, 28)).shape == (1, 2)
