"""Benchmark of diffusion sampling on the CPU (prints figures; not a test).

    python tests/bench/bench_diffusion.py [--batch 16] [--threads N]

Milliseconds per sampled image with DDIM at 10, 50 and 1000 steps (1000 is as many network passes
as DDPM's ancestral sampler), plainly class-conditional (one U-Net pass a step) and with
classifier-free guidance (two). Wall time, and process CPU time, which tells how much of the wall
time other processes took on a shared machine.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zoo import checkpoints  # noqa: E402

NAME = "diffusion-fashion"
STEPS = (10, 50, 1000)


def model_on_cpu() -> torch.nn.Module:
    """The shipped model, or (timing is the same) an untrained one of the same size when it is missing."""
    try:
        return checkpoints.load(NAME, "cpu")[0]
    except checkpoints.CheckpointError:
        return checkpoints.recipe(NAME).build().eval()


def ms_per_image(model: torch.nn.Module, steps: int, guidance: float, batch: int) -> tuple[float, float]:
    """Wall and CPU milliseconds per image of one batch sampled in `steps` DDIM steps."""
    labels = torch.arange(batch) % model.config.n_classes
    wall, cpu = time.perf_counter(), time.process_time()
    model.sample(batch, labels, steps, guidance, generator=torch.Generator().manual_seed(0))
    return 1000 * (time.perf_counter() - wall) / batch, 1000 * (time.process_time() - cpu) / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="images sampled at once")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = model_on_cpu()
    model.sample(2, torch.arange(2), 2, 2.0)  # warm up
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters, batch {args.batch}, "
          f"{torch.get_num_threads()} threads")
    for steps in STEPS:
        for guidance, name in ((1.0, "conditional"), (2.0, "guided")):
            wall, cpu = ms_per_image(model, steps, guidance, args.batch)
            print(f"{steps:>5} steps, {name:>11}: {wall:9.1f} ms per image (CPU time {cpu:9.1f} ms)")


if __name__ == "__main__":
    main()
