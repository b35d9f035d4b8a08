"""zoo.checkpoints: round trip, verification and clear errors."""
import json

import pytest
import torch

from zoo import checkpoints


def test_registry_knows_the_shipped_cnn():
    assert "cnn-fashion" in checkpoints.registry()


def test_every_checkpoint_names_the_package_whose_page_shows_it():
    assert checkpoints.package("cnn-fashion") == "cnn" and checkpoints.package("word2vec-text") == "word2vec"
    assert checkpoints.package("vae-fashion") == "autoencoder" and checkpoints.package("lstm-text") == "rnn"
    with pytest.raises(checkpoints.CheckpointError, match="No package"):
        checkpoints.package("no-such-model")
    with pytest.raises(checkpoints.CheckpointError, match="Unknown checkpoint 'nope'"):
        checkpoints.recipe("nope")


def test_round_trip_gives_identical_outputs_in_eval_mode(tiny_cnn_checkpoint):
    saved, card = tiny_cnn_checkpoint
    loaded, loaded_card = checkpoints.load("cnn-fashion", "cpu")
    assert not loaded.training
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(loaded(x), saved(x))
    assert loaded_card == json.loads(json.dumps(card))
    for field in ("dataset", "config", "parameters", "metrics", "train_command", "device", "wall_time_s", "sha256"):
        assert field in card
    assert card["train_command"] == "python -m zoo.train cnn-fashion"
    assert card["parameters"] == sum(p.numel() for p in saved.parameters())


def test_missing_weights_name_the_file_and_the_rebuild_command(tiny_cnn_checkpoint, checkpoint_dir):
    (checkpoint_dir / "cnn-fashion.safetensors").unlink()
    with pytest.raises(checkpoints.CheckpointError) as error:
        checkpoints.load("cnn-fashion", "cpu")
    assert "cnn-fashion.safetensors is missing" in str(error.value)
    assert "python -m zoo.train cnn-fashion" in str(error.value)


def test_missing_card_is_a_clear_error(checkpoint_dir):
    with pytest.raises(checkpoints.CheckpointError, match="cnn-fashion.json is missing.*zoo.train cnn-fashion"):
        checkpoints.load("cnn-fashion", "cpu")


def test_corrupted_file_fails_the_hash_check(tiny_cnn_checkpoint, checkpoint_dir):
    weights = checkpoint_dir / "cnn-fashion.safetensors"
    payload = bytearray(weights.read_bytes())
    payload[-10] ^= 0xFF
    weights.write_bytes(bytes(payload))
    with pytest.raises(checkpoints.CheckpointError, match="corrupted.*zoo.train cnn-fashion"):
        checkpoints.load("cnn-fashion", "cpu")


def test_wrong_hash_in_card_is_refused(tiny_cnn_checkpoint, checkpoint_dir):
    card_path = checkpoint_dir / "cnn-fashion.json"
    card = json.loads(card_path.read_text())
    card["sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    with pytest.raises(checkpoints.CheckpointError, match="does not match"):
        checkpoints.load("cnn-fashion", "cpu")


def test_weights_that_do_not_fit_the_config_are_a_clear_error(tiny_cnn_checkpoint, checkpoint_dir):
    card_path = checkpoint_dir / "cnn-fashion.json"
    card = json.loads(card_path.read_text())
    card["config"]["hidden"] = 17
    card_path.write_text(json.dumps(card))
    with pytest.raises(checkpoints.CheckpointError, match="does not fit"):
        checkpoints.load("cnn-fashion", "cpu")


def test_state_bytes_round_trip(tiny_cnn_checkpoint):
    model, _ = tiny_cnn_checkpoint
    other = checkpoints.recipe("cnn-fashion").build().eval()
    checkpoints.load_state_bytes(other, checkpoints.state_dict_bytes(model))
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(other(x), model(x))


def test_available_lists_only_present_checkpoints(tiny_cnn_checkpoint):
    assert list(checkpoints.available()) == ["cnn-fashion"]


def test_training_state_round_trip(tmp_path):
    state = {"step": 3, "model": {"w": torch.ones(2)}, "rng": torch.get_rng_state()}
    checkpoints.save_training_state(tmp_path / "s.pt", state)
    back = checkpoints.load_training_state(tmp_path / "s.pt")
    assert back["step"] == 3 and torch.equal(back["model"]["w"], torch.ones(2))
    assert checkpoints.load_training_state(tmp_path / "missing.pt") is None
