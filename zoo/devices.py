"""Pick the torch device: CUDA, then Apple MPS, then CPU; `ZOO_DEVICE` overrides."""
from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Iterator

import torch

from zoo import settings


def pick_device() -> torch.device:
    """The device every model and tensor should move to."""
    wanted = settings.device()
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"ZOO_DEVICE={wanted} but CUDA is not available on this machine.")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"ZOO_DEVICE={wanted} but MPS is not available on this machine.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def bf16_is_native_on_cpu() -> bool:
    """Whether this CPU computes bfloat16 itself (AVX512-BF16 or AMX). Elsewhere torch emulates it: a conv
    encoder's forward pass took 14 times as long as in float32 on an AVX2-only CPU (measured)."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def autocasts_to_bf16(device: torch.device, on_cpu: bool) -> bool:
    """Whether work on `device` runs under bfloat16 autocast: always on a GPU, and on the CPU when the model's
    recipe asks for it (`on_cpu`) and the CPU computes bfloat16 itself."""
    return device.type == "cuda" or (on_cpu and device.type == "cpu" and bf16_is_native_on_cpu())


def inference_copy(model: torch.nn.Module) -> torch.nn.Module:
    """An eval-mode, channels-last copy of `model` for reading many images: its convolutions run about a quarter
    faster on a CPU (one AVX2 thread), and the caller's model keeps its mode and memory layout."""
    return copy.deepcopy(model).eval().to(memory_format=torch.channels_last)


def describe(device: torch.device) -> str:
    """A human name for the device, e.g. 'CUDA: NVIDIA H100' or 'CPU (2 threads)'."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Torch on `threads` threads meanwhile (None: as it is). A live run's tiny networks gain nothing
    from more threads, and on a busy CPU their spin-waiting made steps 3x slower (measured)."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
