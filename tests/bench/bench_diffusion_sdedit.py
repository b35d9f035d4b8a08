"""How much SDEdit changes a garment at each noise step (prints figures; not a test): the measurement behind
the diffusion page's default strength (`models.diffusion.explore.SDEDIT_STEP`).

    OMP_NUM_THREADS=2 python tests/bench/bench_diffusion_sdedit.py [--per-class 5] [--steps 300 500 ...]

The first `per-class` test images of each class are noised to step t and denoised in 25 DDIM steps, as the
page does: with no class (guidance 0), and asked for another class (the class five further on, guidance 2).
Printed for each t: the mean absolute change per pixel (pixels in [0, 1]; the least changed image's in
brackets), the share the shipped CNN still gives their own class (recognisable), and, asked for another
class, the share it gives that class.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zoo import checkpoints  # noqa: E402
from zoo.data import fashion_mnist  # noqa: E402


@torch.no_grad()
def sdedit(model: torch.nn.Module, images: torch.Tensor, t: int, labels: torch.Tensor | None, guidance: float,
           steps: int = 25, seed: int = 0) -> torch.Tensor:
    """`images` (N, 1, 28, 28) in [0, 1] noised to step t and denoised, as the page's `explore.denoise`, batched."""
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed))
    timesteps = model.schedule_steps(steps, t)
    x = model.q_sample(2 * images - 1, torch.full((len(images),), timesteps[0]), noise)
    for _, _, predicted in model.reverse(x, timesteps, labels, guidance):
        pass
    return (predicted + 1) / 2


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=5)
    parser.add_argument("--steps", type=int, nargs="+", default=[300, 500, 600, 650, 700, 750, 800, 850, 900])
    args = parser.parse_args(argv)
    diffusion, _ = checkpoints.load("diffusion-fashion", "cpu")
    cnn, _ = checkpoints.load("cnn-fashion", "cpu")
    test = fashion_mnist.load("test")
    chosen = torch.cat([torch.nonzero(test.labels == c)[:args.per_class, 0] for c in range(10)])
    images, labels = test.floats()[chosen], test.labels[chosen]
    others = (labels + 5) % 10
    print(f"{len(images)} test images; the CNN names {(cnn(images).argmax(1) == labels).float().mean():.0%} of them "
          "right before any edit")
    print(f"{'t':>4}  {'no class: change':>18}  {'keeps its class':>15}  {'asked for another: change':>26}  "
          f"{'keeps':>5}  {'becomes it':>10}")
    for t in args.steps:
        free = sdedit(diffusion, images, t, None, 0.0)
        asked = sdedit(diffusion, images, t, others, 2.0)
        change = lambda edited: (edited - images).abs().mean((1, 2, 3))
        named = lambda edited: cnn(edited).argmax(1)
        print(f"{t:>4}  {change(free).mean():>10.3f} ({change(free).min():.3f})  "
              f"{(named(free) == labels).float().mean():>15.0%}  "
              f"{change(asked).mean():>18.3f} ({change(asked).min():.3f})  {(named(asked) == labels).float().mean():>5.0%}  "
              f"{(named(asked) == others).float().mean():>10.0%}", flush=True)


if __name__ == "__main__":
    with torch.no_grad():
        main()
