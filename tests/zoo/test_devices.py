"""zoo.devices: CPU here, ZOO_DEVICE overrides, an impossible override is a clear error."""
import pytest
import torch

from zoo.devices import describe, inference_copy, pick_device


def test_override(monkeypatch):
    monkeypatch.setenv("ZOO_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    assert describe(torch.device("cpu")).startswith("CPU")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_override_without_cuda_is_refused(monkeypatch):
    monkeypatch.setenv("ZOO_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        pick_device()


def test_default_is_the_best_available(monkeypatch):
    monkeypatch.delenv("ZOO_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert pick_device().type == expected


def test_an_inference_copy_is_channels_last_in_eval_mode_and_leaves_the_model_as_it_was():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4)).train()
    frozen = inference_copy(model)
    assert not frozen.training and frozen[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert model.training and model[0].weight.is_contiguous()
    images = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(frozen(images), model.eval()(images), atol=1e-6)
