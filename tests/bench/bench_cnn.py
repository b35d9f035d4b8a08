"""Benchmark of the CNN page's hot paths (prints figures; not a test).

    python tests/bench/bench_cnn.py [--browser]

1. Predict path (decode + preprocess an uploaded PNG, forward, softmax, top class) against the
   bare model forward on the same tensor, median of 200; the inspection (saliency, Grad-CAM,
   feature maps) is timed on its own.
2. Fine-tuning throughput through `zoo.jobs` (a warm worker process) against a bare PyTorch
   loop on the same model, data and batch size, as a ratio of steps per second.
3. With --browser: the same job started from the real server by headless Chromium on the CNN
   page, which keeps redrawing the live curve, against the bare loop.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import job_steps_per_s, loop_steps_per_s, median_ms  # noqa: E402  (same directory)
from zoo import checkpoints, photos, uploads  # noqa: E402
from zoo.explain.inspection import inspect_image  # noqa: E402
from zoo.training.image_classifier import predict_proba  # noqa: E402
from zoo.data import fashion_mnist  # noqa: E402
from zoo.training.image_classifier import finetune_classifier  # noqa: E402
from zoo.training.loop import make_optimizer  # noqa: E402

NAME = "cnn-fashion"
STEPS, BATCH, LR, N_TRAIN = 300, 64, 3e-4, 2000


def garment_png() -> bytes:
    image = Image.new("RGB", (640, 480), "white")
    ImageDraw.Draw(image).polygon([(200, 60), (440, 60), (560, 160), (480, 200), (470, 440), (170, 440),
                                   (160, 200), (80, 160)], fill=(30, 40, 80))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def bench_predict(model: torch.nn.Module) -> None:
    png = garment_png()
    x = photos.to_fashion_tensor(uploads.load_image(png))
    batch = x.unsqueeze(0)

    def bare():
        with torch.no_grad():
            model(batch)

    def preprocess():
        photos.to_fashion_tensor(uploads.load_image(png, "bench.png"))

    def predict_path():
        image = photos.to_fashion_tensor(uploads.load_image(png, "bench.png"))
        probs = predict_proba(model, image.unsqueeze(0))[0]
        int(probs.argmax())

    forward, prep, path = median_ms(bare), median_ms(preprocess), median_ms(predict_path)
    inspect = median_ms(lambda: inspect_image(model, x), repeats=50)
    print(f"predict: bare forward {forward:.2f} ms, preprocessing {prep:.2f} ms, page predict path {path:.2f} ms "
          f"= {path / (forward + prep):.2f}x (bare forward + preprocessing); target < 2x")
    print(f"inspect (saliency + Grad-CAM + feature maps, one backward): {inspect:.2f} ms")


def finetune_steps_per_s() -> tuple[float, float]:
    """Steps per second of the page's fine-tuning job through `zoo.jobs`, and of the same steps (model,
    data, batch, augmentation, batch-norm statistics kept) in a bare loop."""
    torch.manual_seed(0)
    model, _ = checkpoints.load(NAME, "cpu")
    train, _ = fashion_mnist.subset(N_TRAIN)
    optimizer, _ = make_optimizer(model, LR)
    bare = loop_steps_per_s(model, fashion_mnist.batches(train, BATCH, 0), optimizer, STEPS,
                            transform=fashion_mnist.augment, freeze_norm=True)
    job = job_steps_per_s(finetune_classifier, STEPS, name=NAME, lr=LR, n_train=N_TRAIN, batch_size=BATCH,
                          eval_every=10 ** 9)
    return job, bare


def in_process_steps_per_s(steps: int = 500) -> float:
    """The page's job (evaluation every 25 steps included, never ending early) consumed in this process, no runner."""
    times = {}
    for event in finetune_classifier(NAME, LR, steps, n_train=N_TRAIN, batch_size=BATCH, patience=None):
        if "loss" in event:
            times[event["step"]] = time.perf_counter()
    return (steps - 20) / (times[steps] - times[20])


def browser_steps_per_s() -> float:
    """Start the page's job in headless Chromium and read the live step counter as a person would."""
    import re

    from playwright.sync_api import sync_playwright

    from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_server

    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "server.log") as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/cnn")
        page.get_by_role("button", name="Start fine-tuning").wait_for()
        steps_slider = page.get_by_test_id("stSlider").filter(has_text="Steps").get_by_role("slider")
        steps_slider.focus()
        page.keyboard.press("End")  # 500 steps
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="Start fine-tuning").click()
        counter = re.compile(r"Training… step (\d+)")
        readings = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            text = page.get_by_text(counter).all_inner_texts() if page.get_by_text(counter).count() else []
            if text:
                readings.append((time.perf_counter(), int(counter.search(text[0]).group(1))))
            if page.get_by_text("Fine-tuning finished.").count():
                break
            time.sleep(0.25)
        browser.close()
    first = next(r for r in readings if r[1] >= 20)
    last = readings[-1]
    return (last[1] - first[1]) / (last[0] - first[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also measure through the real server and Chromium")
    args = parser.parse_args()
    torch.set_grad_enabled(True)
    model, _ = checkpoints.load(NAME, "cpu")
    print(f"torch threads: {torch.get_num_threads()}")
    bench_predict(model)
    job, bare = finetune_steps_per_s()
    print(f"fine-tune: bare loop {bare:.2f} steps/s, through zoo.jobs {job:.2f} steps/s = {job / bare:.2f}x; target >= 0.9x")
    if args.browser:
        same_work = in_process_steps_per_s()
        seen = browser_steps_per_s()
        print(f"fine-tune as a person sees it (server + Chromium on the page, held-out evaluation every 25 steps): "
              f"{seen:.2f} steps/s = {seen / bare:.2f}x the bare loop, {seen / same_work:.2f}x the same job "
              f"consumed in-process ({same_work:.2f} steps/s); target >= 0.75x")


if __name__ == "__main__":
    main()
