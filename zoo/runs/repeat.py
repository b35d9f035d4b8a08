"""A run again with other seeds, so that a group's spread is real: the same job function and settings with
seed 1, 2, ... (skipping the run's own), one job after another, each its own queued job, since the runner takes
one job per session. Only runs of this session whose every argument was kept (no uploaded data) can be repeated,
and only with job functions that take a `seed`."""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Callable, Iterator

from zoo import jobs
from zoo.i18n import t
from zoo.jobs.run_log import RunRecord

MAX_REPEATS = 5
"""seeds one click queues: each is a whole run on a shared server"""


def job_function(record: RunRecord) -> Callable[..., Iterator[dict]] | None:
    """The module-level job function a run of this session ran, or None if it cannot be found."""
    module_name, _, name = record.function.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        return None
    return function if callable(function) else None


def why_not_repeatable(record: RunRecord) -> str | None:
    """Why the run cannot be repeated with other seeds, in a sentence of the reader's language, or None if it can."""
    if not record.repeatable:
        return t("runs.not_repeatable.data")
    function = job_function(record)
    if function is None or "seed" not in inspect.signature(function).parameters:
        return t("runs.not_repeatable.no_seed")
    return None


def other_seeds(record: RunRecord, n: int) -> list[int]:
    """`n` seeds from 1 up, without the run's own (its `seed` setting, or the job's default)."""
    own = record.settings.get("seed")
    if own is None and (function := job_function(record)) is not None:
        own = inspect.signature(function).parameters["seed"].default
    return [seed for seed, _ in zip((s for s in count(1) if s != own), range(n))]


@dataclass
class Repeats:
    """Seeds still to run of one run's settings, and the job of the one running; `advance` moves it on."""
    record: RunRecord
    seeds: list[int]
    job_id: str | None = None
    submitted: list[int] = field(default_factory=list)
    waiting: str | None = None
    """why the next seed has not started yet (another job of the session is running), if so"""

    @property
    def done(self) -> bool:
        return self.job_id is None and not self.seeds

    def advance(self, runner: jobs.JobRunner, session: str) -> None:
        """Release the running repeat once it has finished and submit the next seed, if any."""
        if self.job_id is not None:
            if not runner.status(self.job_id).finished:
                return
            runner.release(self.job_id)
            self.job_id = None
        if not self.seeds:
            return
        kwargs: dict[str, Any] = dict(self.record.settings, seed=self.seeds[0])
        try:
            self.job_id = runner.submit(session, job_function(self.record), self.record.page, **kwargs)
        except jobs.JobLimitError as error:
            self.waiting = str(error)
            return
        self.waiting = None
        self.submitted.append(self.seeds.pop(0))
