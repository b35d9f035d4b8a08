"""Job functions the runner contract suite runs on both backends, at module level so that a worker imports them."""
from __future__ import annotations

import os
import time
from typing import Iterator

import numpy as np


def forever_in_own_process(sleep: float = 0.05) -> Iterator[dict]:
    """Yield a step every `sleep` seconds until stopped, each saying which process runs it."""
    step = 0
    while True:
        time.sleep(sleep)
        step += 1
        yield {"step": step, "pid": os.getpid()}


def reported_run(name: str, steps: int, seed: int = 0) -> Iterator[dict]:
    """Yield what a fine-tune reports: "before" figures, `steps` steps of a loss with a picture and, every second
    step, a weight histogram, then "after" figures."""
    yield {"step": 0, "accuracy_before": 0.5, "before": {"test": 0.5}}
    for step in range(1, steps + 1):
        event = {"step": step, "loss": 1.0 / step + seed, "picture": np.zeros((4, 4)), "note": f"step {step}"}
        if step % 2 == 0:
            event["weight_histograms"] = {"layer.weight": {"range": (-1.0, 1.0), "counts": [step, 1, 0]}}
        yield event
    yield {"step": steps, "accuracy_after": 0.75, "after": {"test": 0.75}}
