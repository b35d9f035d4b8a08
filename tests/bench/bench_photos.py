"""Benchmark of the upload preprocessing on photo-like pictures (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_photos.py [--n 300] [--seed 0]

Test-set garments are pasted onto 640x480 photo-like scenes (tests/zoo/photo_scenes.py: flat
paper, linear and radial gradients, paper noise, fabric, wood-like stripes, a soft shadow, an
off-centre garment, light garments on dark backgrounds), saved as JPEG and read as the page reads
an upload. The shipped CNN (checkpoints/cnn-fashion) classifies each one through three
preprocessings: the whole photo squeezed to 28x28 (the page's toggle off), the preprocessing the
page had before issue 23 (`previous_to_fashion_tensor`, kept below as the baseline), and
`zoo.photos.clean_photo`. The same garments as plain 28x28 test images give the ceiling.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.zoo.photo_scenes import SCENES, jpeg, photo  # noqa: E402
from zoo import checkpoints, photos, uploads  # noqa: E402
from zoo.data import fashion_mnist  # noqa: E402

NAME = "cnn-fashion"


def previous_to_fashion_tensor(image: Image.Image) -> torch.Tensor:
    """zoo.uploads.to_fashion_tensor before issue 23, the baseline: invert when the border ring is
    brighter than the centre, subtract the ring's median, crop to pixels over 20% of the brightest."""
    grey = uploads.to_rgb_or_l(image).convert("L")
    grey.thumbnail((512, 512))
    x = np.asarray(grey, dtype=np.float32) / 255
    height, width = x.shape
    ring = max(1, round(0.05 * min(height, width)))
    in_ring = np.ones_like(x, dtype=bool)
    in_ring[ring:height - ring, ring:width - ring] = False
    centre = x[height // 4:height - height // 4, width // 4:width - width // 4]
    if x[in_ring].mean() > centre.mean():
        x = 1 - x
    x = np.clip(x - np.median(x[in_ring]), 0, None)
    rows, cols = np.nonzero(x > max(0.2 * x.max(), 4 / 255))
    if rows.size:
        x = x[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = 28 / max(x.shape)
    new_height, new_width = (max(1, min(28, round(side * scale))) for side in x.shape)
    small = Image.fromarray(x).resize((new_width, new_height), Image.Resampling.LANCZOS)
    canvas = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - new_height) // 2, (28 - new_width) // 2
    canvas[top:top + new_height, left:left + new_width] = np.clip(np.asarray(small), 0, None)
    if canvas.max() > 0:
        canvas /= canvas.max()
    return torch.from_numpy(np.clip(canvas, 0, 1)).unsqueeze(0)


PREPROCESSINGS = {
    "plain resize": photos.plain_resize,
    "previous": previous_to_fashion_tensor,
    "clean_photo": photos.to_fashion_tensor,
}


def accuracy(model: torch.nn.Module, images: list[torch.Tensor], labels: np.ndarray) -> float:
    with torch.no_grad():
        predicted = model(torch.stack(images)).argmax(1).numpy()
    return float((predicted == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="garments per scene")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, card = checkpoints.load(NAME, "cpu")
    test = fashion_mnist.load("test")
    images, labels = test.images.numpy(), test.labels.numpy()
    print(f"{NAME}: {accuracy(model, list(test.floats()), labels):.2%} on the plain test set ({len(labels):,} "
          f"images; the card says {card['metrics']['accuracy']:.2%}); {args.n} garments per scene, seed {args.seed}")
    print(f"{'scene':32s} {'28x28 test':>10s} " + " ".join(f"{name:>12s}" for name in PREPROCESSINGS)
          + f" {'ms/photo':>9s}")
    totals = {name: [] for name in ["28x28 test", *PREPROCESSINGS]}
    for number, scene in enumerate(SCENES):
        rng = np.random.default_rng([args.seed, number])
        chosen = rng.choice(len(labels), args.n, replace=False)
        seen = {name: [] for name in PREPROCESSINGS}
        elapsed = 0.0
        for index in chosen:
            upload = uploads.load_image(jpeg(photo(images[index], scene, rng)), "bench.jpg")
            for name, preprocess in PREPROCESSINGS.items():
                start = time.perf_counter()
                seen[name].append(preprocess(upload))
                elapsed += (time.perf_counter() - start) * (name == "clean_photo")
        truth = labels[chosen]
        row = {"28x28 test": accuracy(model, list(test.floats()[chosen]), truth)}  # the same garments, unphotographed
        row |= {name: accuracy(model, seen[name], truth) for name in PREPROCESSINGS}
        for name, value in row.items():
            totals[name].append(value)
        print(f"{scene.name:32s} " + " ".join(f"{row[name]:>{10 if i == 0 else 12}.1%}" for i, name in enumerate(row))
              + f" {elapsed / args.n * 1000:>9.1f}")
    print(f"{'mean over scenes':32s} " + " ".join(f"{np.mean(v):>{10 if i == 0 else 12}.1%}"
                                                  for i, v in enumerate(totals.values())))
    first = slice(0, 2000)
    for name, preprocess in PREPROCESSINGS.items():
        seen = [preprocess(Image.fromarray(image)) for image in images[first]]
        print(f"the first 2,000 test images themselves through {name}: {accuracy(model, seen, labels[first]):.1%}")
    print(f"the same 2,000 as they are: {accuracy(model, list(test.floats()[first]), labels[first]):.1%}")


if __name__ == "__main__":
    main()
