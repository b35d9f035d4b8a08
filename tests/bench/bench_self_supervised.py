"""Benchmark of the self-supervised page (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_self_supervised.py [--steps 60] [--rounds 2]

1. Contrastive fine-tuning throughput: the page's job (`finetune_simclr`, kNN monitor off) through `zoo.jobs`
   (a warm worker process) against a bare loop of the same steps (model, images, batch, two augmented views,
   bfloat16 autocast as the job uses), in rounds that alternate the two so that a busy machine weighs on both;
   target at least 0.9x.
2. What the page computes once per server (the test set's features, the PCA and t-SNE maps) and on each touch
   of the probe slider (a linear probe on k labels per class, fitted and measured on the 10,000 test images).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import job_steps_per_s  # noqa: E402  (same directory)
from models.self_supervised import explore  # noqa: E402
from models.self_supervised.augment import two_views  # noqa: E402
from models.self_supervised.recipe import finetune_simclr  # noqa: E402
from zoo import checkpoints, devices, jobs  # noqa: E402
from zoo.data import fashion_mnist  # noqa: E402
from zoo.training.loop import make_optimizer, set_train_mode  # noqa: E402

NAME = "simclr-fashion"
BATCH, LR, N_TRAIN = 128, 1e-4, 2000
"""the page's fine-tune defaults: batch, learning rate, Fashion-MNIST training images"""


def bare_steps_per_s(steps: int) -> float:
    """The job's training steps without the job: the shipped model, the job's images and batches, two views
    each, bfloat16 autocast where the job uses it; timed from step 1 (step 0 warms up)."""
    torch.manual_seed(0)
    model, _ = checkpoints.load(NAME, "cpu")
    recipe = checkpoints.recipe(NAME)
    own = fashion_mnist.subset(N_TRAIN, 0, seed=1)[0]
    batches = fashion_mnist.batches(own, BATCH, 0)
    optimizer, _ = make_optimizer(model, LR, recipe.training.weight_decay)
    set_train_mode(model)
    start = None
    for step in range(steps + 1):
        if step == 1:
            start = time.perf_counter()
        x, _ = next(batches)
        with torch.autocast("cpu", dtype=torch.bfloat16,
                            enabled=devices.autocasts_to_bf16(torch.device("cpu"), recipe.training.bf16_on_cpu)):
            loss = model.loss(two_views(x, recipe.augmentations))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()
    return steps / (time.perf_counter() - start)


def bench_finetune(steps: int, rounds: int) -> None:
    runner = jobs.JobRunner(max_jobs=1)
    try:
        bare, job = [], []
        for _ in range(rounds):
            bare.append(bare_steps_per_s(steps))
            job.append(job_steps_per_s(finetune_simclr, steps, runner=runner, name=NAME, lr=LR, n_train=N_TRAIN,
                                       batch_size=BATCH, eval_every=10 ** 9))
    finally:
        runner.shutdown()
    b, j = statistics.median(bare), statistics.median(job)
    print(f"fine-tune, {steps} steps of {BATCH} images (2 views each), {rounds} alternating rounds: bare loop "
          f"{', '.join(f'{v:.2f}' for v in bare)} steps/s, job through zoo.jobs {', '.join(f'{v:.2f}' for v in job)} "
          f"steps/s; median ratio {j / b:.2f}x (target at least 0.9x)")


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def bench_page() -> None:
    model, _ = checkpoints.load(NAME, "cpu")
    test, encode_s = timed(lambda: explore.test_set(model))
    _, pca_s = timed(lambda: explore.feature_map(test, "pca"))
    _, tsne_s = timed(lambda: explore.feature_map(test, "tsne"))
    print(f"once per server: features of {len(test.labels):,} test images {encode_s:.1f} s, PCA map {pca_s:.2f} s, "
          f"t-SNE map of {explore.MAP_POINTS:,} points {tsne_s:.1f} s")
    for per_class in (1, 10, 100):
        times = [timed(lambda: explore.probe_with_few_labels(model, per_class, seed, test))[1] for seed in range(3)]
        print(f"probe on {per_class:>3} labels per class (features of {10 * per_class:,} images, L-BFGS fit, "
              f"measured on {len(test.labels):,}): median {statistics.median(times):.2f} s of 3 draws")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="timed fine-tuning steps per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of bare loop then job")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    bench_finetune(args.steps, args.rounds)
    bench_page()


if __name__ == "__main__":
    main()
