"""models.unet: shapes, skip connections, Dice and IoU, a loss that goes down, the recipe
resuming, a CLI round trip of a tiny config, the fine-tuning job and uploads."""
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from models.unet import explore
from models.unet.model import UNet, UNetConfig, soft_dice_loss
from models.unet.recipe import (SegmentationTraining, UNetRecipe, as_tensors, confusion, dice_iou,
                                evaluate_segmentation, finetune_unet, load_finetuned, with_new_class)
from tests.helpers import consume
from zoo import checkpoints, evaluate, train
from zoo.data import shapes
from zoo.training.loop import make_optimizer, train_steps

TINY = UNetConfig(width=4, depth=2)


def tiny_recipe() -> UNetRecipe:
    return UNetRecipe(UNet, TINY, title="U-Net", training=SegmentationTraining(steps=3, batch_size=4, n_scenes=8))


@pytest.fixture
def tiny_unet(checkpoint_dir, monkeypatch):
    """unet-shapes as a tiny U-Net trained 2 steps, written by the real `zoo.train` CLI."""
    monkeypatch.setitem(checkpoints.registry(), "unet-shapes", tiny_recipe())
    train.main(["unet-shapes", "--max-steps", "2", "--save-every", "1", "--device", "cpu"])
    return checkpoints.load("unet-shapes", "cpu")


def test_shapes_of_logits_and_feature_maps():
    model = UNet(TINY).eval()
    trace = model.trace(torch.rand(3, 1, 32, 32))
    assert trace.logits.shape == (3, 4, 32, 32)
    assert [tuple(m.shape[1:]) for m in trace.encoder] == [(4, 32, 32), (8, 16, 16), (16, 8, 8)]
    assert [tuple(m.shape[1:]) for m in trace.decoder] == [(8, 16, 16), (4, 32, 32)]
    assert model(torch.rand(2, 1, 30, 37)).shape == (2, 4, 30, 37)  # padded inside, cropped back


def test_shipped_config_is_small():
    model = UNet(UNetConfig())
    parameters = sum(p.numel() for p in model.parameters())
    assert parameters * 4 < 5 * 2 ** 20  # the float32 checkpoint stays under 5 MB
    assert {"mean", "std"} <= set(model.state_dict())  # normalisation inside


def test_zeroing_skip_connections_changes_the_output():
    torch.manual_seed(0)
    model = UNet(TINY).eval()
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        full = model(x)
        assert torch.equal(full, model(x, skips=[True, True]))
        top_zeroed, all_zeroed = model(x, skips=[False, True]), model(x, skips=False)
    assert not torch.allclose(full, top_zeroed) and not torch.allclose(top_zeroed, all_zeroed)
    with pytest.raises(ValueError, match="one flag per level"):
        model(x, skips=[True])
    assert explore.skip_flags([1], 2) == [False, True]
    with pytest.raises(ValueError, match="levels run from 1 to 2"):
        explore.skip_flags([3], 2)


def test_dice_and_iou_on_known_masks():
    target = torch.tensor([[1, 1, 0], [0, 0, 0]])
    predicted = torch.tensor([[1, 0, 0], [0, 0, 1]])
    counts = confusion(predicted, target, 3)
    assert counts.tolist() == [[3, 1, 0], [1, 1, 0], [0, 0, 0]]
    dice, iou = dice_iou(counts)
    assert dice[0] == pytest.approx(6 / 8) and iou[0] == pytest.approx(3 / 5)
    assert dice[1] == pytest.approx(2 / 4) and iou[1] == pytest.approx(1 / 3)
    assert np.isnan(dice[2]) and np.isnan(iou[2])  # neither present nor predicted
    perfect = dice_iou(confusion(target, target, 2))
    assert perfect[0].tolist() == [1.0, 1.0] and perfect[1].tolist() == [1.0, 1.0]


def test_soft_dice_loss_is_zero_for_a_confident_right_answer():
    masks = torch.randint(0, 4, (2, 8, 8))
    right = 50.0 * torch.nn.functional.one_hot(masks, 4).permute(0, 3, 1, 2).float()
    assert soft_dice_loss(right, masks).item() == pytest.approx(0.0, abs=1e-4)
    assert soft_dice_loss(-right, masks).item() > 0.9


def test_train_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = UNet(TINY)
    images, masks = shapes.scenes(range(8), 32)
    batch = next(as_tensors(iter([(images, masks)])))
    optimizer, _ = make_optimizer(model, 1e-2)
    events = list(train_steps(model, iter([batch] * 40), optimizer, 40))
    assert [e["step"] for e in events] == list(range(1, 41))
    assert events[-1]["loss"] < 0.6 * events[0]["loss"]
    assert not model.training


def test_evaluation_counts_every_pixel_of_every_scene():
    torch.manual_seed(0)
    model = UNet(TINY).eval()
    images, masks = shapes.held_out(6)
    metrics = evaluate_segmentation(model, images, masks, shapes.class_names(), batch_size=4)
    labels, _ = model.segment(torch.tensor(images)[:, None])
    dice, iou = dice_iou(confusion(labels, torch.tensor(masks), 4))
    assert metrics["n"] == 6
    assert metrics["dice_square"] == pytest.approx(dice[2]) and metrics["iou_background"] == pytest.approx(iou[0])
    assert metrics["mean_dice"] == pytest.approx(np.nanmean(dice[1:]))
    assert metrics["pixel_accuracy"] == pytest.approx((labels == torch.tensor(masks)).float().mean().item())


def test_recipe_fit_resumes_from_its_state():
    recipe = tiny_recipe()
    state: dict = {}
    for event in recipe.fit(recipe.build(), torch.device("cpu"), state):
        if event["step"] == 2:
            break
    assert state["step"] == 2 and event["total"] == 3
    first = next(iter(recipe.fit(recipe.build(), torch.device("cpu"), state)))
    assert first["step"] == 3


def test_train_cli_writes_a_loadable_card_and_evaluate_re_measures_it(tiny_unet, checkpoint_dir, capsys):
    model, card = tiny_unet
    assert card["steps"] == 2 and card["config"] == vars(TINY)
    assert card["classes"] == ["background", "circle", "square", "triangle"]
    assert card["metrics"]["n"] == shapes.N_HELD_OUT and 0 <= card["metrics"]["mean_dice"] <= 1
    assert not (checkpoint_dir / ".train" / "unet-shapes.pt").exists()
    assert model(torch.rand(1, 1, 64, 64)).shape == (1, 4, 64, 64)
    evaluate.main(["unet-shapes", "--limit", "5", "--json"])
    measured = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert measured["n"] == 5 and set(measured) == set(card["metrics"])


def test_new_class_starts_silent(tiny_unet):
    model, _ = tiny_unet
    grown = with_new_class(model).eval()
    x = torch.tensor(shapes.held_out(3)[0])[:, None]
    assert grown.config.n_classes == 5
    assert torch.equal(model.segment(x)[0], grown.segment(x)[0])


def test_fine_tune_job_teaches_a_new_kind_and_returns_loadable_weights(tiny_unet):
    events, payload = consume(finetune_unet("unet-shapes", lr=3e-3, steps=3, new_kind="star", batch_size=4,
                                            n_scenes=8, n_held_out=4, eval_every=2))
    assert events[0]["step"] == 0 and events[0]["classes"][-1] == "star"
    assert "dice_star" in events[0]["dice_before"]
    assert [e["step"] for e in events if "loss" in e] == [1, 2, 3]
    assert [e["step"] for e in events if "dice" in e] == [0, 2, 3]
    assert "dice_star" in events[-1]["dice_after"]
    model, meta = load_finetuned(payload, "cpu")
    assert model.config.n_classes == 5 and meta["classes"][-1] == "star" and meta["base"] == "unet-shapes"
    assert model(torch.rand(1, 1, 64, 64)).shape == (1, 5, 64, 64)
    with pytest.raises(ValueError, match="new kind"):
        next(finetune_unet("unet-shapes", new_kind="hexagon"))


def test_fine_tune_on_noise_keeps_the_classes(tiny_unet):
    events, payload = consume(finetune_unet("unet-shapes", steps=2, noise=0.3, batch_size=4, n_scenes=8,
                                            n_held_out=4))
    model, meta = load_finetuned(payload, "cpu")
    assert model.config.n_classes == 4 and meta["noise"] == 0.3 and len(events[0]["classes"]) == 4


def test_skip_dice_measures_with_and_without(tiny_unet):
    model, card = tiny_unet
    result = explore.skip_dice(model, [1, 2], card["classes"], n=4)
    assert result["with"]["n"] == result["without"]["n"] == 4
    assert result["drop"] == pytest.approx(result["with"]["mean_dice"] - result["without"]["mean_dice"])


def test_segment_image_and_upload_conversion():
    drawing = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(drawing).ellipse((120, 60, 200, 140), fill=(20, 20, 120))
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG")
    image, note = explore.read_upload(buffer.getvalue(), "disc.png")
    assert image.shape == (64, 64) and image.dtype == np.float32
    assert image.min() == pytest.approx(explore.UPLOAD_RANGE[0], abs=0.05) and image.max() <= 1
    assert "disc.png was cropped to its centre square" in note
    assert image[32, 32] < image[2, 2]  # the dark disc is in the middle
    look = explore.segment_image(UNet(TINY).eval(), image)
    assert look.labels.shape == look.confidence.shape == (64, 64)
    assert 0.25 <= look.confidence.min() and look.confidence.max() <= 1
    assert [m.shape[0] for m in look.encoder] == [4, 8, 16] and [m.shape[0] for m in look.decoder] == [8, 4]
