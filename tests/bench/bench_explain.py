"""Benchmark of the measured explanations (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_explain.py [--images 100]

1. Each attribution method's milliseconds (median of 5 calls after one warm-up) and image passes, at the
   Explain page's default settings, on the CNN and the ResNet on the CPU, one image.
2. The faithfulness of every method on the first N Fashion-MNIST test images for the CNN: the deletion and
   insertion areas (mean and standard deviation over the images), insertion minus deletion, how often each
   method is the most faithful, and which method wins by how much.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zoo import checkpoints  # noqa: E402
from zoo.data import fashion_mnist  # noqa: E402
from zoo.explain.attributions import Options, attribute_all, class_logits  # noqa: E402
from zoo.explain.comparison import compare_methods  # noqa: E402

REPEATS = 5


def method_costs(name: str, image: torch.Tensor) -> None:
    model, _ = checkpoints.load(name, "cpu")
    target = int(class_logits(model, image).argmax())
    attribute_all(model, image, target)  # warm-up
    runs = [attribute_all(model, image, target) for _ in range(REPEATS)]
    print(f"\n{name} on {torch.get_num_threads()} CPU thread(s), default settings {Options()}:")
    print(f"  {'method':32s} {'ms (median)':>12s} {'forward':>8s} {'backward':>9s}")
    for i, first in enumerate(runs[0]):
        ms = statistics.median(run[i].ms for run in runs)
        print(f"  {first.method:32s} {ms:12.1f} {first.forward:8d} {first.backward:9d}")


def faithfulness(n_images: int) -> None:
    model, _ = checkpoints.load("cnn-fashion", "cpu")
    split = fashion_mnist.load("test") if fashion_mnist.is_installed() else fashion_mnist.load_sample()
    images = split.floats()[:n_images]
    areas: dict[str, list[tuple[float, float]]] = {}
    wins: dict[str, int] = {}
    start = time.perf_counter()
    for pixels in images[:, 0].numpy():
        comparison = compare_methods(model, pixels, sanity_check=False)
        for m in comparison.methods:
            areas.setdefault(m.attribution.method, []).append((m.curves.deletion_area, m.curves.insertion_area))
        best = comparison.most_faithful.attribution.method
        wins[best] = wins.get(best, 0) + 1
    seconds = time.perf_counter() - start
    print(f"\nFaithfulness on the first {len(images)} Fashion-MNIST test images, cnn-fashion, its predicted class, "
          f"{Options()} ({seconds:.1f} s in all):")
    print(f"  {'method':32s} {'deletion AUC (lower better)':>28s} {'insertion AUC (higher better)':>30s} "
          f"{'insertion - deletion':>21s} {'most faithful on':>17s}")
    scores = {}
    for method, pairs in areas.items():
        deletion, insertion = np.array(pairs).T
        scores[method] = insertion - deletion
        print(f"  {method:32s} {deletion.mean():17.3f} ± {deletion.std():.3f}  {insertion.mean():19.3f} ± "
              f"{insertion.std():.3f}  {scores[method].mean():12.3f} ± {scores[method].std():.3f} "
              f"{wins.get(method, 0):10d} images")
    ranked = sorted(scores, key=lambda method: scores[method].mean(), reverse=True)
    first, second = ranked[:2]
    gap = scores[first] - scores[second]
    print(f"\nWinner by mean insertion - deletion: {first} ({scores[first].mean():.3f}), ahead of {second} "
          f"({scores[second].mean():.3f}) by {gap.mean():.3f} (paired differences: standard error "
          f"{gap.std(ddof=1) / np.sqrt(len(gap)):.3f}; {first} is ahead on {int((gap > 0).sum())} of {len(gap)} "
          f"images). Lowest deletion AUC: {min(areas, key=lambda m: np.mean([d for d, _ in areas[m]]))}; highest "
          f"insertion AUC: {max(areas, key=lambda m: np.mean([i for _, i in areas[m]]))}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100)
    args = parser.parse_args()
    image = fashion_mnist.load_sample().floats()[:1]
    for name in ("cnn-fashion", "resnet-fashion"):
        method_costs(name, image)
    faithfulness(args.images)


if __name__ == "__main__":
    main()
