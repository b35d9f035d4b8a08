"""Small helpers the unit tests share."""
from __future__ import annotations

import os
from typing import Any, Generator


def consume(job: Generator[dict, None, Any]) -> tuple[list[dict], Any]:
    """Run a job's generator in this process: its events, and the value it returns."""
    events = []
    while True:
        try:
            events.append(next(job))
        except StopIteration as stop:
            return events, stop.value


def rss_bytes() -> int:
    """This process's resident memory now (Linux), to check that refusing an input cost little."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
