"""Every training run a session starts, as both job runners record it from its events, for the Runs page: the
page it came from, its job function, checkpoint and plain settings, its submit, start and end wall times, every
number it reported by step, its final figures and the weight histograms it sent. A run outlives its job's
`release` (pages release jobs once they have drawn them) and ends with its session (`cancel_session`).

Bounded like everything else a runner keeps (sizes as pickled, as `zoo.jobs.history` counts them):
- MAX_RUNS runs per session, the oldest dropped first;
- per run, MAX_POINTS points or MAX_RUN_BYTES, then thinned as `zoo.jobs.history` thins events (every second
  point kept, then every fourth, ...; the first and the newest always), and MAX_HISTOGRAMS weight histograms;
  MAX_FINAL final figures;
- MAX_SESSION_BYTES per session and MAX_TOTAL_BYTES over all sessions, the oldest runs dropped first.
Only numbers are kept of an event: pictures, frames and weights are not.
"""
from __future__ import annotations

import math
import pickle
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from zoo.jobs.history import EventHistory
from zoo.jobs.pace import plain_settings

MAX_RUNS = 100
"""runs kept per session"""
MAX_POINTS = 2000
"""points kept per run before they are thinned: more than a chart shows"""
MAX_RUN_BYTES = 1 * 2 ** 20
"""bytes of points kept per run before they are thinned"""
MAX_HISTOGRAMS = 64
"""weight histograms kept per run before they are thinned"""
MAX_HISTOGRAM_BYTES = 1 * 2 ** 20
"""bytes of weight histograms kept per run before they are thinned"""
MAX_FINAL = 64
"""final figures kept per run"""
MAX_SESSION_BYTES = 16 * 2 ** 20
"""bytes of runs kept per session"""
MAX_TOTAL_BYTES = 256 * 2 ** 20
"""bytes of runs kept over all sessions"""
WEIGHT_HISTOGRAMS = "weight_histograms"
"""the event key of a weight histogram entry: {layer: {"range": (low, high), "counts": [...]}}"""
_NOT_METRICS = frozenset({"step", "total"})


@dataclass(frozen=True)
class RunRecord:
    """One training run as the Runs page reads it: what ran, when, and what it reported."""

    id: str
    page: str                      # the url path of the page that started it ("cnn"), or "" if none said
    function: str                  # the job function's module and name
    checkpoint: str | None         # the `name` argument: the shipped checkpoint it started from
    settings: dict[str, Any]       # its plain arguments (`pace.plain_settings`) and `steps`
    state: str                     # the job's state when recorded: "queued", "running", "done", ...
    submitted: float               # wall times, seconds since the epoch
    started: float | None = None
    ended: float | None = None
    error: str | None = None
    points: tuple[dict, ...] = ()  # {"step": int, "time": wall seconds, metric: number, ...}, in order
    final: dict[str, float] = field(default_factory=dict)  # the last value of every number it reported
    histograms: tuple[dict, ...] = ()  # {"step": int, "layers": {layer: {"range": (lo, hi), "counts": [...]}}}
    repeatable: bool = False       # every argument was kept (no data), so it can be submitted again


@dataclass(eq=False)
class _Run:
    """A run being recorded."""

    record: RunRecord
    session_id: str
    points: EventHistory = field(default_factory=lambda: EventHistory(MAX_POINTS, MAX_RUN_BYTES))
    histograms: EventHistory = field(default_factory=lambda: EventHistory(MAX_HISTOGRAMS, MAX_HISTOGRAM_BYTES))
    final: dict[str, float] = field(default_factory=dict)
    base_bytes: int = 0            # its description's

    @property
    def nbytes(self) -> int:
        return self.base_bytes + self.points.nbytes + self.histograms.nbytes

    def snapshot(self) -> RunRecord:
        fields = dict(self.record.__dict__, points=tuple(self.points.since()), final=dict(self.final),
                      histograms=tuple(self.histograms.since()))
        return RunRecord(**fields)


class RunLog:
    """The runs of every session, kept by a job runner under its lock: `submitted`, `started`, `observe` and
    `ended` as its jobs go, `runs` for a page, `end_session` when a browser session ends."""

    def __init__(self) -> None:
        self._sessions: dict[str, OrderedDict[str, _Run]] = {}
        self._runs: dict[str, _Run] = {}
        self.nbytes = 0

    def submitted(self, job_id: str, session_id: str, page: str, function: str, kwargs: dict[str, Any]) -> None:
        """Start recording job `job_id`, just submitted by `session_id` from `page`."""
        settings = plain_settings(kwargs)
        if isinstance(kwargs.get("steps"), Integral):
            settings["steps"] = int(kwargs["steps"])
        checkpoint = kwargs.get("name") if isinstance(kwargs.get("name"), str) else None
        record = RunRecord(job_id, page, function, checkpoint, settings, "queued", time.time(),
                           repeatable=len(settings) == len(kwargs))
        run = _Run(record, session_id, base_bytes=len(pickle.dumps(record)))
        self._sessions.setdefault(session_id, OrderedDict())[job_id] = run
        self._runs[job_id] = run
        self.nbytes += run.nbytes
        self._trim(session_id)

    def started(self, job_id: str, at: float | None = None) -> None:
        """The job began running at wall time `at` (now if None)."""
        if (run := self._runs.get(job_id)) is not None:
            run.record = _replace(run.record, state="running", started=time.time() if at is None else at)

    def observe(self, job_id: str, event: dict, at: float | None = None) -> None:
        """Keep the numbers of an event the job yielded at wall time `at` (now if None) and its weight histograms."""
        run = self._runs.get(job_id)
        if run is None:
            return
        before = run.nbytes
        numbers = {key: float(value) for key, value in event.items() if key not in _NOT_METRICS and _number(value)}
        step = event.get("step")
        if isinstance(step, Integral) and not isinstance(step, bool):
            if numbers:
                point = {"step": int(step), "time": time.time() if at is None else at, **numbers}
                run.points.add(point, len(pickle.dumps(point)))
            if isinstance(event.get(WEIGHT_HISTOGRAMS), dict):
                entry = {"step": int(step), "layers": event[WEIGHT_HISTOGRAMS]}
                run.histograms.add(entry, len(pickle.dumps(entry)))
        for key, value in _flat_numbers(event):
            if key in run.final or len(run.final) < MAX_FINAL:
                run.final[key] = value
        self.nbytes += run.nbytes - before
        self._trim(run.session_id)

    def ended(self, job_id: str, state: str, error: str | None = None) -> None:
        """The job ended in `state` (with `error`, a sentence, if it failed)."""
        if (run := self._runs.get(job_id)) is not None:
            run.record = _replace(run.record, state=state, error=error, ended=time.time())

    def runs(self, session_id: str) -> list[RunRecord]:
        """The session's runs, oldest first, as they stand now."""
        return [run.snapshot() for run in self._sessions.get(session_id, {}).values()]

    def end_session(self, session_id: str) -> None:
        """Forget the session's runs: its browser session has ended."""
        for job_id in list(self._sessions.get(session_id, {})):
            self._drop(job_id)

    def _trim(self, session_id: str) -> None:
        """Drop the session's oldest runs beyond MAX_RUNS or MAX_SESSION_BYTES, and the oldest of all beyond
        MAX_TOTAL_BYTES; the newest run of a session stays."""
        runs = self._sessions.get(session_id, {})
        while len(runs) > 1 and (len(runs) > MAX_RUNS or sum(run.nbytes for run in runs.values()) > MAX_SESSION_BYTES):
            self._drop(next(iter(runs)))
        while self.nbytes > MAX_TOTAL_BYTES and len(self._runs) > 1:
            self._drop(min(self._runs.values(), key=lambda run: run.record.submitted).record.id)

    def _drop(self, job_id: str) -> None:
        run = self._runs.pop(job_id)
        self.nbytes -= run.nbytes
        session = self._sessions[run.session_id]
        del session[job_id]
        if not session:
            del self._sessions[run.session_id]


def _replace(record: RunRecord, **changes: Any) -> RunRecord:
    return RunRecord(**dict(record.__dict__, **changes))


def _number(value: Any) -> bool:
    """A finite number that is not a switch: what a curve can show."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _flat_numbers(event: dict, prefix: str = "") -> list[tuple[str, float]]:
    """The event's numbers, those in nested dicts named "outer.inner" ({"after": {"test": 0.9}} -> "after.test")."""
    found = []
    for key, value in event.items():
        if not isinstance(key, str) or key == WEIGHT_HISTOGRAMS or (not prefix and key in _NOT_METRICS):
            continue
        if _number(value):
            found.append((prefix + key, float(value)))
        elif isinstance(value, dict) and not prefix:
            found += _flat_numbers(value, f"{key}.")
    return found
