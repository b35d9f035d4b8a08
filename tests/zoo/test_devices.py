"""zoo.devices: CPU here, ZOO_DEVICE overrides, an impossible override is a clear error."""
import pytest
import torch

from zoo.devices import describe, pick_device


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
