"""What the benchmarks share: a median time, steps per second of a fine-tuning job through
`zoo.jobs` against the same steps in a bare PyTorch loop (the ratio the issues set targets for), and
polling a live job the way a page's fragment does."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zoo import checkpoints, jobs  # noqa: E402
from zoo.data import text  # noqa: E402
from zoo.training import char_lm  # noqa: E402
from zoo.training.loop import clip_gradients, make_optimizer, set_train_mode  # noqa: E402


def median_ms(fn: Callable[[], object], repeats: int = 200) -> float:
    """Median wall time of `fn()` in milliseconds, after ten warm-up calls."""
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


POLL_S = 0.5
"""how often a page's live fragment polls its job (DESIGN: at most twice a second)"""


def poll_like_a_page(poll: Callable[[], jobs.JobStatus | None], redraw: Callable[[], None]) -> list[float]:
    """Call `poll()` (a job's status) and then `redraw()` every POLL_S until the job has finished, as a
    page's live fragment does; the job must end done. Returns the ms each poll and redraw took."""
    costs = []
    while True:
        began = time.perf_counter()
        status = poll()
        redraw()
        costs.append(1000 * (time.perf_counter() - began))
        if status is not None and status.finished:
            break
        time.sleep(max(0.0, POLL_S - (time.perf_counter() - began)))
    assert status.state == "done", status
    return costs


def frame_steps_per_s(events: list[dict]) -> float:
    """A job's steps per second by its own clock, between its first and last timed events."""
    timed = [event for event in events if "elapsed_s" in event]
    first, last = timed[0], timed[-1]
    return (last["step"] - first["step"]) / (last["elapsed_s"] - first["elapsed_s"])


def loop_steps_per_s(model: torch.nn.Module, batches: Iterator[tuple[torch.Tensor, ...]],
                     optimizer: torch.optim.Optimizer, steps: int,
                     transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                     freeze_norm: bool = False) -> float:
    """Bare training steps per second, timed from step 1 (step 0 warms up, as a job's first step does)."""
    set_train_mode(model, freeze_norm)
    start = None
    for step in range(steps + 1):
        if step == 1:
            start = time.perf_counter()
        x, *rest = next(batches)
        loss = model.loss(transform(x) if transform else x, *rest)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()
    return steps / (time.perf_counter() - start)


def job_steps_per_s(job: Callable[..., Iterator[dict]], steps: int, runner=None, **kwargs) -> float:
    """Steps per second of `job(steps=steps + 1, **kwargs)` in a warm `zoo.jobs` worker (of `runner`, else of a
    local runner made for it), between its step 1 and step `steps` as their events arrive here."""
    own = runner is None
    runner = jobs.JobRunner(max_jobs=1) if own else runner
    try:
        job_id = runner.submit("bench", job, steps=steps + 1, **kwargs)
        arrivals: dict[int, float] = {}
        seen = 0
        while True:
            finished = runner.status(job_id).finished
            for event in runner.events(job_id, seen):
                if "loss" in event:
                    arrivals.setdefault(event["step"], time.perf_counter())
                seen += 1
            if finished:
                break
            time.sleep(0.02)
        assert runner.status(job_id).state == "done", runner.status(job_id)
        return (steps - 1) / (arrivals[steps] - arrivals[1])
    finally:
        if own:
            runner.shutdown()


def charlm_finetune_steps_per_s(name: str, steps: int, lr: float = 1e-3) -> tuple[float, float]:
    """Steps per second of the text pages' fine-tuning job on character model NAME through `zoo.jobs`,
    and of the same steps (model, text, batch 16 x 128, optimiser, gradient clipping) in a bare loop.
    The person's text is a stand-in: 60,000 characters of the test split."""
    person_text = text.load("test")[:60_000]
    torch.manual_seed(0)
    model, card = checkpoints.load(name, "cpu")
    ids = text.Vocab(card["vocab"]).encode(person_text)
    optimizer, _ = make_optimizer(model, lr)
    clip_gradients(optimizer, 1.0)
    bare = loop_steps_per_s(model, text.batches(ids[:int(len(ids) * 0.9)], 16, 128, 0), optimizer, steps)
    job = job_steps_per_s(char_lm.finetune_charlm, steps, name=name, person_text=person_text, lr=lr,
                          batch_size=16, seq_len=128, eval_every=10 ** 9, sample_every=10 ** 9, original_chars=2000)
    return job, bare
