"""A job function the runner contract suite runs on both backends, at module level so that a worker imports it."""
from __future__ import annotations

import os
import time
from typing import Iterator


def forever_in_own_process(sleep: float = 0.05) -> Iterator[dict]:
    """Yield a step every `sleep` seconds until stopped, each saying which process runs it."""
    step = 0
    while True:
        time.sleep(sleep)
        step += 1
        yield {"step": step, "pid": os.getpid()}
