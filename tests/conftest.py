"""Shared fixtures: a throwaway checkpoint directory with a tiny CNN in it."""
from __future__ import annotations

import pytest
import torch

from zoo import checkpoints


@pytest.fixture
def checkpoint_dir(tmp_path, monkeypatch):
    """ZOO_CHECKPOINT_DIR pointed at an empty temporary directory."""
    monkeypatch.setenv("ZOO_CHECKPOINT_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def tiny_cnn_checkpoint(checkpoint_dir):
    """An untrained cnn-fashion written with a card, as `zoo.train` would."""
    torch.manual_seed(0)
    model = checkpoints.recipe("cnn-fashion").build()
    card = checkpoints.save("cnn-fashion", model.eval(), {
        "title": "CNN", "dataset": "fashion-mnist", "config": checkpoints.recipe("cnn-fashion").config_dict(),
        "steps": 0, "device": "CPU", "wall_time_s": 0.0, "metrics": {"accuracy": 0.1, "loss": 2.3, "n": 10}})
    return model, card
