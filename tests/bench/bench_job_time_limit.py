"""Benchmark: how the default fine-tunes that a busy server cut at its time limit end now (prints figures;
not a test).

    ZOO_JOB_SECONDS=60 python tests/bench/bench_job_time_limit.py [resnet unet rnn gan diffusion]

Each job runs as the page submits it (the page's default settings) through a JobRunner with one warm
worker on one torch thread, one job at a time. Printed per job: how it ended, the steps done of those
asked, its running time, its before and after figures, the note of a run that stopped early, the size
of the weights it returned, and the estimate the page then shows before the next run.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from models.diffusion.recipe import finetune_diffusion  # noqa: E402
from models.gan.recipe import finetune_gan  # noqa: E402
from models.resnet.plain_vs_residual import compare_training  # noqa: E402
from models.unet.recipe import finetune_unet  # noqa: E402
from zoo.data import shapes, text  # noqa: E402
from zoo.jobs import JobRunner, deadline  # noqa: E402
from zoo.training.char_lm import finetune_charlm  # noqa: E402

RNN_TEXT_CHARS = 6000
"""the person's text for the RNN: a few paragraphs (the start of the corpus' test split stands in)"""


def figures_resnet(events: list[dict]) -> str:
    reports = [e for e in events if "loss_plain" in e]
    first, last = reports[0], reports[-1]
    return (f"loss plain {first['loss_plain']:.3f} -> {last['loss_plain']:.3f}, "
            f"residual {first['loss_residual']:.3f} -> {last['loss_residual']:.3f} "
            f"(steps {first['step']} -> {last['step']})")


def figures_unet(events: list[dict]) -> str:
    before = next(e["dice_before"] for e in events if "dice_before" in e)
    after = next((e["dice_after"] for e in events if "dice_after" in e), None)
    return f"held-out mean Dice {before['mean_dice']:.3f} -> " + (f"{after['mean_dice']:.3f}" if after else "none")


def figures_rnn(events: list[dict]) -> str:
    before = next(e["bpc_before"] for e in events if "bpc_before" in e)
    after = next((e["bpc_after"] for e in events if "bpc_after" in e), None)
    if after is None:
        return f"bits per char: yours {before['yours']:.3f}, original {before['original']:.3f}; no after"
    return (f"bits per char, held-out yours {before['yours']:.3f} -> {after['yours']:.3f}, "
            f"original {before['original']:.3f} -> {after['original']:.3f}")


def figures_gan(events: list[dict]) -> str:
    steps = [e for e in events if "d_real" in e]
    sampled = [e["step"] for e in events if "samples" in e]
    return (f"D(real) {steps[0]['d_real']:.2f} -> {steps[-1]['d_real']:.2f}, D(fake) {steps[0]['d_fake']:.2f} -> "
            f"{steps[-1]['d_fake']:.2f}; samples drawn at steps {sampled[0]} .. {sampled[-1]}")


def figures_diffusion(events: list[dict]) -> str:
    losses = [e["loss"] for e in events if "loss" in e]
    sampled = [e["step"] for e in events if "samples" in e]
    return (f"loss (mean of 10) {mean(losses[:10]):.4f} -> {mean(losses[-10:]):.4f}; "
            f"samples drawn at steps {sampled[0]} .. {sampled[-1]}")


JOBS = {  # name: (job, the page's default arguments, what to print)
    "resnet": (compare_training, dict(blocks=5, width=8, batch_norm=False, steps=60), figures_resnet),
    "unet": (finetune_unet, dict(name="unet-shapes", lr=1e-3, steps=80, new_kind="star", noise=shapes.DEFAULT_NOISE),
             figures_unet),
    "rnn": (finetune_charlm, dict(name="lstm-text", person_text=text.load("test")[:RNN_TEXT_CHARS], lr=1e-3, steps=100),
            figures_rnn),
    "gan": (finetune_gan, dict(name="dcgan-fashion", steps=100, g_lr=2e-4, d_lr=2e-4, d_steps=1), figures_gan),
    "diffusion": (finetune_diffusion, dict(name="diffusion-fashion", lr=1e-4, steps=200, label=0), figures_diffusion),
}


def main(names: list[str]) -> None:
    os.environ.setdefault("ZOO_WORKER_THREADS", "1")
    runner = JobRunner(max_jobs=1)
    print(f"time limit {runner.job_seconds:g} s, {os.environ['ZOO_WORKER_THREADS']} torch thread per worker")
    try:
        for name in names:
            job, kwargs, figures = JOBS[name]
            job_id = runner.submit(name, job, **kwargs)
            while not (status := runner.status(job_id)).finished:
                time.sleep(0.5)
            events = runner.events(job_id)
            done = max((e["step"] for e in events if "loss" in e or "loss_plain" in e or "d_loss" in e), default=0)
            note = next((e[deadline.STOPPED_EARLY] for e in events if deadline.STOPPED_EARLY in e), None)
            result = runner.result(job_id)
            print(f"\n{name}: {status.state} after {status.elapsed_s:.1f} s, {done} of {kwargs['steps']} steps"
                  + (f" ({status.error})" if status.error else ""))
            print(f"  {figures(events)}")
            print(f"  note: {note}" if note else "  no note: it ran every step")
            print(f"  result: {len(result):,} bytes of weights" if isinstance(result, bytes)
                  else f"  result: {result!r}")
            pace = runner.pace(job)
            if pace is not None:
                print(f"  next estimate: {pace.estimate(kwargs, kwargs['steps'], runner.job_seconds, name)}")
    finally:
        runner.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:] or list(JOBS))
