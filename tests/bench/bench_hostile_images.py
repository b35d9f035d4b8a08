"""Benchmark: what reading each hostile upload of issue 20 costs (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_hostile_images.py [--code /path/to/another/checkout]
    OMP_NUM_THREADS=1 python tests/bench/bench_hostile_images.py --sides [--n 30]

Each upload (tests/zoo/hostile_uploads.py) is read by the function the pages call on it, in a fresh
process with one thread, with the default limits; printed: the upload's size, the read's wall time,
the process's peak memory and how far the read raised it, and the outcome. The last line is the
whole of what the ResNet page does with a zip (read, then each image cleaned to 28x28), once: a
rerun reuses it (`zoo.ui.from_upload`). `--code` reads with another checkout's zoo/ (e.g. a worktree
at main) to compare before and after.

`--sides` measures what keeping a zip's images small costs in accuracy: test-set garments pasted on
photo-like scenes (tests/zoo/photo_scenes.py, `--n` per scene), read at several sides and cleaned by
`zoo.photos.clean_photo`; printed: the shipped CNN's accuracy at each side (uploads.CLASS_IMAGE_SIDE).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.zoo.hostile_uploads import (REPOSITORY, deep_png, float_tiff, measure, phone_jpeg,  # noqa: E402
                                       zip_of_huge_pngs, zip_of_many_pngs)
from tests.zoo.photo_scenes import SCENES, jpeg, photo  # noqa: E402
from zoo import checkpoints, photos, uploads  # noqa: E402
from zoo.data import fashion_mnist  # noqa: E402

SIDES = (1024, 256, 160)

UPLOADS = [
    ("16-bit PNG ramp, 6300x6300", "load_image", "ramp.png", deep_png),
    ("16-bit PNG ramp, 4000x4000", "load_image", "ramp.png", lambda: deep_png(4000)),
    ("float TIFF ramp, 6300x6300", "load_image", "ramp.tif", float_tiff),
    ("float TIFF ramp, 4000x4000", "load_image", "ramp.tif", lambda: float_tiff(4000)),
    ("phone JPEG, 4032x3024", "load_image", "phone.jpg", phone_jpeg),
    ("progressive phone JPEG, 8000x6000", "load_image", "phone48.jpg", lambda: phone_jpeg(8000, 6000, True)),
    ("zip of 20 PNGs of 6000x6000", "read_class_folders", "huge.zip", zip_of_huge_pngs),
    ("zip of 60 PNGs of 3500x3500", "read_class_folders", "huge.zip", lambda: zip_of_huge_pngs(60, 3500)),
    ("zip of 2,000 PNGs of 512x512", "read_class_folders", "many.zip", zip_of_many_pngs),
    ("the same, made into 28x28 pictures", "class_arrays", "many.zip", zip_of_many_pngs),
]


def accuracy_by_side(per_scene: int, seed: int = 0) -> None:
    """The shipped CNN's accuracy on photo-like scenes cleaned from the upload read at each of SIDES."""
    model, _ = checkpoints.load("cnn-fashion", "cpu")
    sample = fashion_mnist.load_sample()
    images, labels = sample.images.numpy(), sample.labels.numpy()
    rng = np.random.default_rng(seed)
    right, total = dict.fromkeys(SIDES, 0), 0
    for scene in SCENES:
        for _ in range(per_scene):
            index = int(rng.integers(len(labels)))
            data = jpeg(photo(images[index], scene, rng))
            for side in SIDES:
                x = photos.clean_photo(uploads.load_image(data, "scene.jpg", max_side=side)).tensor()
                with torch.no_grad():
                    right[side] += int(model(x[None]).argmax()) == labels[index]
            total += 1
    print(f"{total} photos: " + ", ".join(f"read at {side} px: {right[side] / total:.1%}" for side in SIDES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPOSITORY, help="the checkout whose zoo/ reads the uploads")
    parser.add_argument("--sides", action="store_true", help="the CNN's accuracy by the side images are read at")
    parser.add_argument("--n", type=int, default=30, help="photos per scene for --sides")
    args = parser.parse_args()
    if args.sides:
        torch.set_num_threads(1)
        accuracy_by_side(args.n)
        return
    code = args.code.resolve()
    print(f"reading with {code}")
    for label, call, name, build in UPLOADS:
        data = build()
        cost = measure(call, data, name, cwd=code)
        print(f"{label} ({len(data) / 1024:,.0f} KB): {cost.seconds:.2f} s, peak {cost.peak_mb:,.0f} MB "
              f"(+{cost.extra_mb:,.0f} MB) -> {cost.outcome}")


if __name__ == "__main__":
    main()
