"""A job's own view of its time limit, so that a job near it ends early and keeps what it has.

The worker runs each job inside `limit(seconds)`. Training loops call `wrap_up(event, done, total)`
after each step: once the time left is less than the longest step so far plus a reserve for the
job's final figures and weights, it marks the event with a note (under STOPPED_EARLY) and the loop
stops stepping; the job goes on to its "after" figures and returns its weights. A job past its limit
that has not begun to wrap up is stopped by the worker as before, and one that overruns while wrapping
up is killed by the runner's hard limit. Outside a worker (the CLI, tests) nothing is ever due.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from zoo.i18n import t

STOPPED_EARLY = "stopped_early"
"""the event key of the note a loop leaves when it stops early to finish within the time limit"""
RESERVE_SHARE = 0.1
"""the share of the limit kept free for the final figures and weights, beyond what the job's start took"""


@dataclass
class _Clock:
    seconds: float
    started: float
    first_check: float | None = None   # the first time a loop asked: the job's start, its "before" figures
    last_check: float | None = None
    longest_step: float = 0.0          # the longest time between two asks: a step and what its consumer did
    wrapping_up: bool = False


_clock: _Clock | None = None


@contextmanager
def limit(seconds: float) -> Iterator[None]:
    """Run the enclosed job under a time limit of `seconds` (the worker's side)."""
    global _clock
    _clock = _Clock(seconds, time.monotonic())
    try:
        yield
    finally:
        _clock = None


def reserve_s(setup_s: float, seconds: float) -> float:
    """The time a job keeps for its end: as long as its start took (loading, the "before" figures,
    which the "after" figures mirror) and a tenth of the limit, at most half the limit."""
    return min(setup_s + RESERVE_SHARE * seconds, seconds / 2)


def wrap_up_due() -> bool:
    """Whether the running job should stop stepping now, leaving time for its final figures and weights;
    once it is, it stays so. Always False outside a job."""
    clock = _clock
    if clock is None:
        return False
    if not clock.wrapping_up:
        now = time.monotonic()
        if clock.first_check is None:
            clock.first_check = now
        else:
            clock.longest_step = max(clock.longest_step, now - clock.last_check)
        clock.last_check = now
        reserve = reserve_s(clock.first_check - clock.started, clock.seconds)
        clock.wrapping_up = now + clock.longest_step + reserve >= clock.started + clock.seconds
    return clock.wrapping_up


def wrap_up(event: dict, done: int, total: int, unit: str = "steps") -> bool:
    """Whether a job's loop, after `done` of its `total` `unit`, stops here to finish within the time
    limit; if so `event`, its last, gets the note that says so. Never outside a job, nor at the end."""
    clock = _clock
    if clock is None or done >= total or not wrap_up_due():
        return False
    event[STOPPED_EARLY] = t(f"jobs.stopped_early.{unit.replace(' ', '_')}", done=done, total=total,
                             seconds=clock.seconds)
    return True


def overrun() -> bool:
    """Whether the running job is past its limit without having begun to wrap up (the worker stops it)."""
    clock = _clock
    return (clock is not None and not clock.wrapping_up
            and time.monotonic() - clock.started > clock.seconds)
