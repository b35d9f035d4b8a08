"""zoo.training.image_classifier: the fine-tuning job, run in-process (the job runner is tested on its own)."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.helpers import consume
from zoo import checkpoints
from zoo.training.image_classifier import fashion_arrays, finetune_classifier, split_held_out
from zoo.uploads import ClassFolders, UploadError


def test_fine_tune_on_own_images_reports_before_and_after_and_returns_weights(tiny_cnn_checkpoint):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, 28, 28), dtype=np.uint8)
    labels = np.repeat([1, 7], 12)
    events, weights = consume(finetune_classifier("cnn-fashion", 1e-3, 6, images, labels, eval_every=3))
    assert events[0]["step"] == 0 and "accuracy_before" in events[0]
    assert events[0]["n_train"] + events[0]["n_held_out"] == 24
    assert [e["step"] for e in events if "loss" in e] == list(range(1, 7))
    assert [e["step"] for e in events if "accuracy" in e and "loss" in e] == [3, 6]
    assert "accuracy_after" in events[-1]
    model = checkpoints.recipe("cnn-fashion").build()
    checkpoints.load_state_bytes(model, weights)  # the bytes are a complete state dict


def test_the_shipped_file_is_untouched_by_fine_tuning(tiny_cnn_checkpoint, checkpoint_dir):
    before = (checkpoint_dir / "cnn-fashion.safetensors").read_bytes()
    consume(finetune_classifier("cnn-fashion", 1e-2, 3, np.zeros((8, 28, 28), np.uint8), np.arange(8) % 2))
    assert (checkpoint_dir / "cnn-fashion.safetensors").read_bytes() == before


def test_held_out_split_keeps_every_class_on_both_sides():
    labels = np.array([0] * 8 + [3] * 4 + [5])
    train, held = split_held_out(np.zeros((13, 28, 28), np.uint8), labels)
    assert sorted(set(held.labels.tolist())) == [0, 3]
    assert 5 in train.labels.tolist() and len(train) + len(held) == 13


def _silhouette() -> Image.Image:
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).rectangle([20, 8, 44, 56], fill="black")
    return image


def test_class_folders_map_to_fashion_classes():
    folders = ClassFolders(images=[_silhouette()] * 3, labels=[0, 0, 1], classes=["Sneakers", "trouser"])
    images, labels = fashion_arrays(folders)
    assert images.shape == (3, 28, 28) and images.dtype == np.uint8 and images.max() > 200
    assert labels.tolist() == [7, 7, 1]


def test_unknown_folder_names_are_a_clear_error():
    folders = ClassFolders(images=[_silhouette()] * 2, labels=[0, 1], classes=["cats", "dogs"])
    with pytest.raises(UploadError, match="'cats' is not a Fashion-MNIST class"):
        fashion_arrays(folders)
