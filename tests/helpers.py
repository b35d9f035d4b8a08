"""Small helpers the unit tests share."""
from __future__ import annotations

from typing import Any, Generator


def consume(job: Generator[dict, None, Any]) -> tuple[list[dict], Any]:
    """Run a job's generator in this process: its events, and the value it returns."""
    events = []
    while True:
        try:
            events.append(next(job))
        except StopIteration as stop:
            return events, stop.value
