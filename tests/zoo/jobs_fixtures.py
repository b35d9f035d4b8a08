"""Generator functions that tests/zoo/test_jobs.py runs as jobs.

They live at module level in their own module because a worker process imports a job's
function by module and name.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from zoo import jobs
from zoo.i18n import t
from zoo.jobs import deadline


def count_steps(n: int, result: bytes = b"weights", sleep: float = 0.0) -> Iterator[dict]:
    """Yield n steps, each with a loss and a tiny image payload, and return `result`."""
    for step in range(1, n + 1):
        time.sleep(sleep)
        yield {"step": step, "loss": 1.0 / step, "image": np.full((2, 2), step, dtype=np.uint8)}
    return result


def forever(sleep: float = 0.05, closed_marker: str | None = None) -> Iterator[dict]:
    """Yield a step every `sleep` seconds until stopped; write `closed_marker` when closed."""
    step = 0
    try:
        while True:
            time.sleep(sleep)
            step += 1
            yield {"step": step}
    finally:
        if closed_marker:
            Path(closed_marker).write_text("closed")


def fail_after(n: int) -> Iterator[dict]:
    """Yield n steps, then fail the way a recipe with a bad setting would."""
    for step in range(1, n + 1):
        yield {"step": step}
    raise ValueError("learning rate too high")


def hang(seconds: float = 60.0) -> Iterator[dict]:
    """Yield one step, then take `seconds` over the next one (a step that hangs)."""
    yield {"step": 1}
    time.sleep(seconds)
    yield {"step": 2}


def train_with_deadline(n: int, sleep: float, finish_s: float = 0.0, result: bytes = b"weights") -> Iterator[dict]:
    """A training job as the recipes write one: "before" figures, up to `n` steps of `sleep` seconds that
    stop early as `train_steps` does near the time limit, then "after" figures taking `finish_s`."""
    yield {"step": 0, "accuracy_before": 0.5}
    for step in range(1, n + 1):
        time.sleep(sleep)
        event = {"step": step, "loss": 1.0 / step}
        stopping = deadline.wrap_up(event, step, n)
        yield event
        if stopping:
            break
    time.sleep(finish_s)
    yield {"step": step, "accuracy_after": 0.9}
    return result


def flood(n: int, kb: int) -> Iterator[dict]:
    """Yield n steps, each with a `kb` KB blob: a job that sends far more than a page needs."""
    for step in range(1, n + 1):
        yield {"step": step, "loss": 1.0 / step, "blob": np.full(kb << 10, step % 251, dtype=np.uint8)}


def live_frames(n: int, kb: int, seconds: float = 30.0, sleep: float = 0.0) -> Iterator[dict]:
    """Yield n live frames, each with its metrics, its weights (`state`) and a `kb` KB picture, as the live
    boards do (which also stop after `seconds`)."""
    for step in range(1, n + 1):
        time.sleep(sleep)
        yield {"step": step, "loss": 1.0 / step, "note": f"frame {step}", "state": f"weights {step}".encode(),
               "picture": np.zeros(kb << 10, np.uint8), jobs.LIVE_FRAME: True}


def hog(chunk_mb: int, with_torch: bool = False) -> Iterator[dict]:
    """Allocate (and touch) `chunk_mb` MB after `chunk_mb` MB until memory runs out, reporting the process's
    peak resident memory after each: a hostile job's memory blow-up."""
    chunks = []
    if with_torch:
        import torch
    while True:
        size = chunk_mb << 20
        chunks.append(torch.ones(size // 4) if with_torch else np.ones(size, dtype=np.uint8))
        yield {"step": len(chunks), "peak_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MB (VmHWM)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def environment_variable(variable: str) -> Iterator[dict]:
    """Yield nothing; return the worker's value of environment `variable` (None if unset)."""
    yield from ()
    return os.environ.get(variable)


def translated(key: str) -> Iterator[dict]:
    """Yield nothing; return `t(key)` as the worker says it."""
    yield from ()
    return t(key)
