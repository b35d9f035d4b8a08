"""A quick job function with a seed for the Runs page's tests, at module level so that a worker imports it."""
from __future__ import annotations

import random
import time
from typing import Iterator


def noisy_descent(steps: int, lr: float = 0.1, seed: int = 0, sleep: float = 0.0) -> Iterator[dict]:
    """Yield `steps` steps of a loss that falls by `lr` a step, with noise drawn from `seed`."""
    rng = random.Random(seed)
    loss = 1.0
    for step in range(1, steps + 1):
        time.sleep(sleep)
        loss *= 1 - lr
        yield {"step": step, "loss": loss + 0.05 * rng.random()}
