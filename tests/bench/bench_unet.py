"""Benchmark of the U-Net page's hot paths (prints figures; not a test).

    python tests/bench/bench_unet.py

1. Segmentation latency per 64x64 image: the bare forward pass, the page's path (`segment_image`:
   forward, softmax, labels, confidence and every feature map as numpy), and batched forwards
   (per image) the way the held-out evaluation runs them; median of 200 (50 for batches).
2. The rest of the page's work for one input: drawing a scene, converting an upload, the Dice drop
   with the skip connections zeroed on the held-out scenes the page uses.
3. Fine-tuning throughput through `zoo.jobs` (a warm worker process running `finetune_unet`) against
   a bare PyTorch loop on the same model, scenes and batch size, as a ratio of steps per second.
"""
from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import job_steps_per_s, loop_steps_per_s, median_ms  # noqa: E402  (same directory)
from models.unet import explore  # noqa: E402
from models.unet.recipe import as_tensors, finetune_unet, with_new_class  # noqa: E402
from zoo import checkpoints, uploads  # noqa: E402
from zoo.data import shapes  # noqa: E402
from zoo.training.loop import make_optimizer  # noqa: E402

NAME = "unet-shapes"
STEPS, BATCH, LR, N_SCENES = 60, 16, 1e-3, 400


def drawing_png() -> bytes:
    image = Image.new("RGB", (640, 480), (140, 140, 140))
    draw = ImageDraw.Draw(image)
    draw.ellipse((100, 120, 300, 320), fill=(30, 30, 30))
    draw.polygon([(380, 340), (560, 340), (470, 160)], fill=(230, 230, 230))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def bench_segment(model: torch.nn.Module, card: dict) -> None:
    image = shapes.scene(7).image
    x = torch.from_numpy(image)[None, None]

    def bare():
        with torch.no_grad():
            model(x)

    forward, page = median_ms(bare), median_ms(lambda: explore.segment_image(model, image))
    print(f"segmentation latency, one 64x64 image: bare forward {forward:.2f} ms, page path (softmax, labels, "
          f"confidence, feature maps) {page:.2f} ms")
    for batch in (32, 100):
        xs = torch.from_numpy(shapes.held_out(batch)[0])[:, None]

        def batched():
            with torch.no_grad():
                model(xs)

        print(f"  batch of {batch}: {median_ms(batched, repeats=50) / batch:.2f} ms per image")
    png = drawing_png()
    print(f"draw a scene: {median_ms(lambda: shapes.scene(11)):.2f} ms; convert an upload (640x480 PNG): "
          f"{median_ms(lambda: explore.upload_to_input(uploads.load_image(png, 'b.png'), 'b.png')):.2f} ms")
    start = time.perf_counter()
    result = explore.skip_dice(model, [1, 2, 3], card["classes"])
    print(f"held-out Dice with every skip zeroed ({result['n']} scenes, both measurements): "
          f"{time.perf_counter() - start:.2f} s; mean Dice {result['with']['mean_dice']:.3f} -> "
          f"{result['without']['mean_dice']:.3f}")


def finetune_steps_per_s() -> tuple[float, float]:
    """Steps per second of the page's fine-tuning job (new kind: star) through `zoo.jobs`, and of the
    same steps (model with the grown head, scenes, batch) in a bare loop."""
    torch.manual_seed(0)
    model, _ = checkpoints.load(NAME, "cpu")
    model = with_new_class(model)
    kinds = shapes.BASE_KINDS + ("star",)
    images, masks = shapes.scenes(shapes.training_seeds(N_SCENES), kinds=kinds)
    optimizer, _ = make_optimizer(model, LR)
    bare = loop_steps_per_s(model, as_tensors(shapes.batches(images, masks, BATCH)), optimizer, STEPS)
    job = job_steps_per_s(finetune_unet, STEPS, name=NAME, lr=LR, new_kind="star", batch_size=BATCH,
                          n_scenes=N_SCENES, eval_every=10 ** 9)
    return job, bare


def main() -> None:
    model, card = checkpoints.load(NAME, "cpu")
    print(f"{NAME}: {card['parameters']:,} parameters, torch threads: {torch.get_num_threads()}")
    bench_segment(model, card)
    job, bare = finetune_steps_per_s()
    print(f"fine-tune: bare loop {bare:.2f} steps/s, through zoo.jobs {job:.2f} steps/s = {job / bare:.2f}x; "
          "target >= 0.9x")


if __name__ == "__main__":
    main()
