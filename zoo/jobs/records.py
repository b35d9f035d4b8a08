"""What both job runners (local workers and Ray) keep and say about jobs: the status a page reads, how many
finished jobs are kept and for how long, and the sentences for a full queue and for an id no longer known."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

from zoo.i18n import t

FINISHED = frozenset({"done", "failed", "cancelled", "timed_out", "expired"})
KEEP_FINISHED = 200       # finished jobs kept for their sessions to collect ...
KEEP_FINISHED_S = 3600.0  # ... for at most an hour ...
KEEP_FINISHED_BYTES = 256 * 2 ** 20  # ... and, of those not yet collected, events and results up to this in all
"""what the status of a job id the runner does not know says"""

Job = TypeVar("Job")


class JobLimitError(RuntimeError):
    """A limit on jobs was hit; the message is meant for the person at the browser."""


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job, for the page to draw."""

    state: str            # "queued" | "running" | "done" | "failed" | "cancelled" | "timed_out" | "expired"
    position: int | None  # 1-based place in the queue while queued, else None
    error: str | None     # "ValueError: ..." for failed, a sentence for timed_out and expired
    n_events: int         # events received, also those no longer kept
    elapsed_s: float      # running time so far (0 while queued)

    @property
    def finished(self) -> bool:
        """Whether the job has ended and will not change any more."""
        return self.state in FINISHED


def to_forget(finished: Iterable[Job], now: float, ended: Callable[[Job], float],
              nbytes: Callable[[Job], int]) -> list[Job]:
    """Of the finished jobs, those beyond the newest KEEP_FINISHED, older than KEEP_FINISHED_S, and the oldest
    of those whose events and results, not yet collected, take more than KEEP_FINISHED_BYTES in all."""
    oldest_first = sorted(finished, key=ended)
    excess = len(oldest_first) - KEEP_FINISHED
    held = sum(nbytes(job) for job in oldest_first)
    forgotten = []
    for i, job in enumerate(oldest_first):
        if i < excess or now - ended(job) > KEEP_FINISHED_S or held > KEEP_FINISHED_BYTES:
            held -= nbytes(job)
            forgotten.append(job)
    return forgotten


def function_name(fn: Callable) -> str:
    """The job function's module and name, under which its pace is kept."""
    return f"{fn.__module__}.{fn.__qualname__}"


def busy(slots: int, waiting: int) -> str:
    """What a person reads when the queue is full."""
    key = "jobs.busy." + ("one_slot" if slots == 1 else "slots") + ("_no_queue" if waiting == 0 else "")
    return t(key, slots=slots, waiting=waiting)
