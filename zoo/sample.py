"""Write samples of a generative checkpoint: `python -m zoo.sample NAME --n N --seed S --out F.npy`.

The file holds float32 (N, 28, 28) images in [0, 1]; the same seed gives the same images.
Every recipe with a `sample_images(model, n, seed, device)` method is a generative one.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from zoo import checkpoints, progress
from zoo.devices import pick_device


def generative_names() -> list[str]:
    return sorted(name for name, recipe in checkpoints.registry().items() if hasattr(recipe, "sample_images"))


def sample(name: str, n: int, seed: int = 0) -> np.ndarray:
    """N images of checkpoint NAME as float32 (N, 28, 28) in [0, 1]."""
    device = pick_device()
    model, _ = checkpoints.load(name, device)
    images = np.asarray(checkpoints.recipe(name).sample_images(model, n, seed, device), dtype=np.float32)
    return images.reshape(n, 28, 28).clip(0, 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=generative_names())
    parser.add_argument("--n", type=int, default=64, help="how many images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="the .npy file to write")
    args = parser.parse_args(argv)
    progress.enable()
    if args.n < 1:
        parser.error("--n must be at least 1")
    images = sample(args.name, args.n, args.seed)
    np.save(args.out, images)
    print(f"wrote {len(images)} samples of {args.name} to {args.out}")


if __name__ == "__main__":
    main()
