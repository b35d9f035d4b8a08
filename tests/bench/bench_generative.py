"""Benchmark of sampling from the generative checkpoints on the CPU (prints figures; not a test).

    python tests/bench/bench_generative.py [--batch 16] [--threads N]

Milliseconds per sampled image: the VAE (one decoder pass), the DCGAN (one generator pass), and
the diffusion model with DDIM at 10, 50 and 1000 steps (1000 is as many network passes as DDPM's
ancestral sampler), plainly class-conditional (one U-Net pass a step) and with classifier-free
guidance (two). Wall time, and process CPU time, which tells how much of the wall time other
processes took on a shared machine.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zoo import checkpoints  # noqa: E402

STEPS = (10, 50, 1000)


def model_on_cpu(name: str) -> torch.nn.Module:
    """The shipped model, or (timing is the same) an untrained one of the same size when it is missing."""
    try:
        return checkpoints.load(name, "cpu")[0]
    except checkpoints.CheckpointError:
        return checkpoints.recipe(name).build().eval()


def timed(sample: Callable[[], object], batch: int) -> tuple[float, float]:
    """Wall and CPU milliseconds per image of `sample()`, which draws `batch` images."""
    wall, cpu = time.perf_counter(), time.process_time()
    sample()
    return 1000 * (time.perf_counter() - wall) / batch, 1000 * (time.process_time() - cpu) / batch


def one_pass_samplers(batch: int) -> None:
    """The VAE and the DCGAN, which make an image in one network pass."""
    vae, gan = model_on_cpu("vae-fashion"), model_on_cpu("dcgan-fashion")
    labels = torch.arange(batch) % gan.config.n_classes
    for name, sample in (("VAE", lambda: vae.sample(batch, torch.Generator().manual_seed(0))),
                         ("DCGAN", lambda: gan.sample(batch, labels, torch.Generator().manual_seed(0)))):
        with torch.no_grad():
            sample()  # warm up
            wall, cpu = timed(sample, batch)
        print(f"{name:>25}: {wall:9.2f} ms per image (CPU time {cpu:9.2f} ms)")


def ms_per_image(model: torch.nn.Module, steps: int, guidance: float, batch: int) -> tuple[float, float]:
    """Wall and CPU milliseconds per image of one batch sampled in `steps` DDIM steps."""
    labels = torch.arange(batch) % model.config.n_classes
    return timed(lambda: model.sample(batch, labels, steps, guidance, generator=torch.Generator().manual_seed(0)), batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="images sampled at once")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"batch {args.batch}, {torch.get_num_threads()} threads")
    one_pass_samplers(args.batch)
    model = model_on_cpu("diffusion-fashion")
    model.sample(2, torch.arange(2), 2, 2.0)  # warm up
    for steps in STEPS:
        for guidance, name in ((1.0, "conditional"), (2.0, "guided")):
            wall, cpu = ms_per_image(model, steps, guidance, args.batch)
            print(f"diffusion {steps:>4} steps, {name:>11}: {wall:9.2f} ms per image (CPU time {cpu:9.2f} ms)")


if __name__ == "__main__":
    main()
