"""Benchmark of the ResNet page's predict latency (prints figures; not a test).

    python tests/bench/bench_resnet.py

Median of 200 of: the bare forward of the shipped ResNet on one 28x28 tensor; the upload's
decoding and preprocessing; the predict path (decode, preprocess, forward, softmax, top
class); and what the page runs per image, `inspect_image` (forward, saliency and Grad-CAM in
one backward, feature maps), after preprocessing.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_cnn import garment_png  # noqa: E402  (same directory)
from timing import median_ms  # noqa: E402
from zoo import checkpoints, photos, uploads  # noqa: E402
from zoo.explain.inspection import inspect_image  # noqa: E402
from zoo.training.image_classifier import predict_proba  # noqa: E402

NAME = "resnet-fashion"


def main() -> None:
    model, card = checkpoints.load(NAME, "cpu")
    print(f"{NAME}: {card['parameters']:,} parameters, torch threads: {torch.get_num_threads()}")
    png = garment_png()
    x = photos.to_fashion_tensor(uploads.load_image(png))
    batch = x.unsqueeze(0)

    def bare():
        with torch.no_grad():
            model(batch)

    def preprocess():
        return photos.to_fashion_tensor(uploads.load_image(png, "bench.png"))

    def predict_path():
        probs = predict_proba(model, preprocess().unsqueeze(0))[0]
        int(probs.argmax())

    def page_path():
        inspect_image(model, preprocess())

    forward, prep, predict, page = (median_ms(fn) for fn in (bare, preprocess, predict_path, page_path))
    print(f"bare forward {forward:.2f} ms · preprocessing {prep:.2f} ms · "
          f"predict path {predict:.2f} ms = {predict / (forward + prep):.2f}x (bare forward + preprocessing)")
    print(f"page path (preprocess + inspect_image: prediction, saliency, Grad-CAM, feature maps) {page:.2f} ms")


if __name__ == "__main__":
    main()
