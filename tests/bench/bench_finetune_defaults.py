"""Every page's default fine-tune (or training run), run in this process as its job: before and after
figures, what each run chose and warned, and seconds (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_finetune_defaults.py [--only mlp cnn ...] [--list]

Each entry holds the page's default widget values and the input a person would give it: a few paragraphs
of English (tests/typed_text.py) on the text pages, small zips of photo-like images where a page asks for
them; keep them in step with the pages. A run prints its figures before and after when the job reports
them (accuracy, bits per character, Dice, return), else the first and last value of each metric it logs.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from models.autoencoder.recipe import finetune_autoencoder  # noqa: E402
from models.diffusion.recipe import finetune_diffusion  # noqa: E402
from models.dqn.env import CARTPOLE_PHYSICS  # noqa: E402
from models.dqn.recipe import finetune_dqn  # noqa: E402
from models.gan.recipe import finetune_gan  # noqa: E402
from models.gnn import recipe as gnn  # noqa: E402
from models.resnet.plain_vs_residual import compare_training  # noqa: E402
from models.resnet.transfer import class_arrays, transfer  # noqa: E402
from models.unet.recipe import finetune_unet  # noqa: E402
from models.word2vec.recipe import Word2VecConfig, default_workers, train_vectors  # noqa: E402
from tests.typed_text import PRIDE_AND_PREJUDICE  # noqa: E402
from zoo.data import fashion_mnist, graphs, shapes  # noqa: E402
from zoo.training.char_lm import finetune_charlm  # noqa: E402
from zoo.training.image_classifier import VALIDATION_IMAGES, fashion_arrays, finetune_classifier  # noqa: E402
from zoo.uploads import ClassFolders  # noqa: E402

BEFORE_AFTER = {"accuracy_before": "accuracy_after", "bpc_before": "bpc_after", "before": "after",
                "dice_before": "dice_after", "return_before": "return_after"}
"""the keys under which the jobs report a figure before and after their run"""
NOT_METRICS = {"step", "lr", "total", "elapsed_s", "epsilon", "words_per_s", "seconds"}
"""logged numbers that say how the run went, not how good the model is"""


def garment_photos(per_class: int = 16, classes: tuple[int, ...] = (0, 1, 6, 7), seed: int = 0) -> ClassFolders:
    """Test-set garments (none among the first 2,000 or the validation ones) drawn dark, four times larger, on
    160x120 grey gradients with noise, off centre: photos a person might zip up for the CNN page."""
    rng = np.random.default_rng(seed)
    test = fashion_mnist.load("test")
    images, labels = [], []
    for index, label in enumerate(classes):
        members = [i for i in np.flatnonzero(test.labels.numpy() == label) if 2000 <= i < len(test) - VALIDATION_IMAGES]
        for i in members[:per_class]:
            background = np.linspace(rng.uniform(90, 160), rng.uniform(170, 230), 160)[None, :] * np.ones((120, 1))
            background += rng.normal(0, 6, background.shape)
            garment = np.asarray(Image.fromarray(255 - test.images[i].numpy()).resize((84, 84)), dtype=np.float64)
            top, left = rng.integers(10, 30), rng.integers(20, 60)
            patch = background[top:top + 84, left:left + 84]
            patch[garment < 200] = 0.6 * garment[garment < 200]
            images.append(Image.fromarray(background.clip(0, 255).astype(np.uint8)).convert("RGB"))
            labels.append(index)
    return ClassFolders(images=images, labels=labels, classes=[fashion_mnist.CLASSES[c] for c in classes])


def shape_photos(per_class: int = 12, seed: int = 0) -> ClassFolders:
    """Discs, squares and triangles of varied size, place and shade on light, slightly noisy paper: a new
    small task for the ResNet page's transfer learning."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, kind in enumerate(("discs", "squares", "triangles")):
        for _ in range(per_class):
            image = Image.new("RGB", (160, 120), tuple(int(v) for v in rng.integers(215, 255, 3)))
            size, x, y = rng.integers(40, 80), rng.integers(5, 75), rng.integers(5, 35)
            fill = tuple(int(v) for v in rng.integers(10, 90, 3))
            draw = ImageDraw.Draw(image)
            if kind == "discs":
                draw.ellipse([x, y, x + size, y + size], fill=fill)
            elif kind == "squares":
                draw.rectangle([x, y, x + size, y + size], fill=fill)
            else:
                draw.polygon([(x + size // 2, y), (x, y + size), (x + size, y + size)], fill=fill)
            noisy = np.asarray(image, dtype=np.float64) + rng.normal(0, 5, (120, 160, 3))
            images.append(Image.fromarray(noisy.clip(0, 255).astype(np.uint8)))
            labels.append(label)
    return ClassFolders(images=images, labels=labels, classes=["discs", "squares", "triangles"])


def cnn_photos() -> dict[str, Any]:
    images, labels = fashion_arrays(garment_photos())
    return dict(name="cnn-fashion", lr=3e-4, steps=100, n_test=2000, images=images, labels=labels)


def resnet_transfer() -> dict[str, Any]:
    folders = shape_photos()
    images, labels = class_arrays(folders)
    return dict(name="resnet-fashion", images=images, labels=labels, classes=folders.classes, mode="features",
                lr=3e-3, steps=60)


def dqn_standard_world() -> dict[str, Any]:
    return dict(name="dqn-cartpole", physics=dict(CARTPOLE_PHYSICS), steps=5000, lr=1e-3, epsilon=0.3)


def gnn_karate() -> dict[str, Any]:
    graph = graphs.BUILT_IN["Zachary's karate club"]()
    settings = gnn.Settings(kind="gcn", layers=3, features="structural", epochs=200, balance=1.0)
    return dict(graph=graph, labelled=gnn.draw_labelled(graph.labels, 1, 0), settings=settings)


RUNS: dict[str, tuple[str, Callable[..., Iterator[dict]], Callable[[], dict[str, Any]]]] = {
    "mlp": ("MLP page: Fashion-MNIST subset", finetune_classifier,
            lambda: dict(name="mlp-fashion", lr=3e-5, steps=100, n_train=2000, n_test=10_000 - VALIDATION_IMAGES)),
    "cnn": ("CNN page: Fashion-MNIST subset", finetune_classifier,
            lambda: dict(name="cnn-fashion", lr=3e-5, steps=100, n_train=2000, n_test=2000)),
    "cnn-photos": ("CNN page: your photos (4 classes x 16 garments on gradients)", finetune_classifier, cnn_photos),
    "resnet-transfer": ("ResNet page: transfer to 3 classes x 12 shape photos", transfer, resnet_transfer),
    "resnet-comparison": ("ResNet page: plain vs residual", compare_training,
                          lambda: dict(blocks=5, width=8, batch_norm=False, steps=60)),
    "rnn": ("RNN page: LSTM on a few typed paragraphs", finetune_charlm,
            lambda: dict(name="lstm-text", person_text=PRIDE_AND_PREJUDICE, lr=3e-4, steps=100)),
    "transformer": ("Transformer page: a few typed paragraphs", finetune_charlm,
                    lambda: dict(name="transformer-text", person_text=PRIDE_AND_PREJUDICE, lr=3e-4, steps=100)),
    "gan": ("GAN page", finetune_gan, lambda: dict(name="dcgan-fashion", steps=100, g_lr=2e-4, d_lr=2e-4, d_steps=1)),
    "autoencoder": ("Autoencoder page: the VAE", finetune_autoencoder,
                    lambda: dict(name="vae-fashion", lr=1e-3, steps=100, beta=4.0)),
    "diffusion": ("Diffusion page: Fashion-MNIST T-shirts", finetune_diffusion,
                  lambda: dict(name="diffusion-fashion", lr=1e-4, steps=200, label=0)),
    "unet": ("U-Net page: a new shape", finetune_unet,
             lambda: dict(name="unet-shapes", lr=1e-3, steps=80, new_kind=shapes.EXTRA_KINDS[0],
                          noise=shapes.DEFAULT_NOISE)),
    "dqn": ("DQN page: the standard world", finetune_dqn, dqn_standard_world),
    "gnn": ("GNN page: karate club, one label per class", gnn.train_live, gnn_karate),
    "word2vec": ("Word2Vec page: a few typed paragraphs", train_vectors,
                 lambda: dict(text=PRIDE_AND_PREJUDICE, config=Word2VecConfig(vector_size=50, window=5, min_count=2,
                                                                              epochs=20, negative=5,
                                                                              workers=default_workers()))),
}


def shown(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items() if not isinstance(v, (dict, list))) + "}"
    return f"{value:.4f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value)


def run(key: str) -> None:
    title, job, arguments = RUNS[key]
    kwargs = arguments()
    torch.manual_seed(0)
    began = time.perf_counter()
    events, generator = [], job(**kwargs)
    while True:
        try:
            events.append(next(generator))
        except StopIteration:
            break
    seconds = time.perf_counter() - began
    last_step = max((e["step"] for e in events if "step" in e), default=0)
    print(f"== {key}: {title}\n   {seconds:.1f} s, {last_step:,} steps")
    figures = {}
    for event in events:
        figures.update({k: v for k, v in event.items() if k in BEFORE_AFTER or k in BEFORE_AFTER.values()})
    pairs = [(k, after) for k, after in BEFORE_AFTER.items() if k in figures and after in figures]
    if ("before", "after") in pairs:  # the classifiers' dicts hold their accuracy_before and _after too
        pairs.remove(("accuracy_before", "accuracy_after"))
    for before, after in pairs:
        print(f"   {before} {shown(figures[before])} -> {after} {shown(figures[after])}")
    if not pairs:
        logged = {}
        for event in events:
            for name, value in event.items():
                if name not in NOT_METRICS and isinstance(value, (int, float)) and not isinstance(value, bool):
                    logged.setdefault(name, []).append(value)
        for name, values in logged.items():
            print(f"   {name}: {shown(values[0])}" if len(values) == 1 else
                  f"   {name}: first {shown(float(values[0]))}, last {shown(float(values[-1]))} ({len(values)} logged)")
    for event in events:
        for note in ("summary", "held_out"):
            if note in event:
                print(f"   {note}: {shown(event[note])}")
        for warning in event.get("warnings", []):
            print(f"   warning: {warning}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(RUNS), help="run these only, in this order")
    parser.add_argument("--list", action="store_true", help="name the runs and stop")
    args = parser.parse_args()
    if args.list:
        for key, (title, *_) in RUNS.items():
            print(f"{key}: {title}")
        return
    print(f"torch threads: {torch.get_num_threads()}")
    for key in args.only or RUNS:
        run(key)


if __name__ == "__main__":
    main()
