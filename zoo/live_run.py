"""What the live boards share (the MLP playground, the GAN toy game): one person's run between
reruns, trained in a `zoo.jobs` worker whose job yields a frame, with the packed weights
(`checkpoints.pack_state`), a few times a second. The page polls it, draws the last frame and
pauses it by keeping the last state. Frames are marked `jobs.LIVE_FRAME`: the runner keeps only the
newest whole and of the older ones their numbers, which are all the curves need; the run keeps its
curves here, in the page's session, and releases the job once it has taken the end of it."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterator

from zoo import jobs
from zoo.i18n import t

RUN_SECONDS = 30.0
"""one Start trains this long at most, then pauses: a shared server has few job slots"""


@dataclass(eq=False, kw_only=True)
class LiveRun:
    """The weights, frames and running job of a live run; subclasses say what a run trains."""
    state: bytes | None = None
    step: int = 0
    history: list[dict] = field(default_factory=list)
    frame: dict | None = None
    job_id: str | None = None
    _notice: tuple[str, dict] | str | None = None
    """why the last run stopped, if the person should know: a catalogue key and its values (said in the language
    of whoever reads it), or the job's own sentence"""
    run_seconds: float = RUN_SECONDS
    _seen: int = 0
    metrics: ClassVar[tuple[str, ...]] = ("step",)
    """what each frame adds to `history`, for the curves"""

    @property
    def notice(self) -> str | None:
        """Why the last run stopped, in the reader's language, if the person should know."""
        if isinstance(self._notice, tuple):
            key, values = self._notice
            return t(key, **values)
        return self._notice

    @property
    def running(self) -> bool:
        return self.job_id is not None

    @property
    def page(self) -> str:
        """The page its runs are recorded under: its algorithm's (a board in models/mlp/ is on pages/mlp.py)."""
        parts = type(self).__module__.split(".")
        return parts[1] if parts[0] == "models" and len(parts) > 1 else ""

    def _submit(self, runner: jobs.JobRunner, session: str, job: Callable[..., Iterator[dict]], seconds: float,
                **kwargs) -> None:
        """Submit `job(seconds=..., **kwargs)`; raises jobs.JobLimitError if the session has a job."""
        self.run_seconds = min(seconds, 0.95 * runner.job_seconds)  # end it before the runner has to
        self.job_id = runner.submit(session, job, self.page, seconds=self.run_seconds, **kwargs)
        self._notice, self._seen = None, 0

    def poll(self, runner: jobs.JobRunner) -> jobs.JobStatus | None:
        """Take in the running job's new frames; release and forget the job once it has finished."""
        if self.job_id is None:
            return None
        status = runner.status(self.job_id)  # first: once finished, every frame is already in
        for event in runner.events(self.job_id, self._seen, status.n_events):
            self._absorb(event)
        self._seen = status.n_events
        if status.finished:
            runner.release(self.job_id)
            self.job_id = None
            if status.state == "done":
                self._notice = ("ui.live.paused", dict(seconds=self.run_seconds))
            elif status.state != "cancelled":
                self._notice = status.error or ("ui.live.timed_out" if status.state == "timed_out" else "ui.live.failed", {})
        return status

    def pause(self, runner: jobs.JobRunner, wait_s: float = 3.0) -> None:
        """Cancel the job and keep its last frame's state (waiting briefly for the frame in flight)."""
        if self.job_id is None:
            return
        runner.cancel(self.job_id)
        deadline = time.monotonic() + wait_s
        while not runner.status(self.job_id).finished and time.monotonic() < deadline:
            time.sleep(0.02)
        self.poll(runner)
        if self.job_id is not None:  # still stopping: what it sends from now on is not wanted
            runner.release(self.job_id)
            self.job_id = None

    def _absorb(self, event: dict) -> None:
        """Add a frame's numbers to the curves; a whole frame (the newest) also becomes the state and picture."""
        if "state" in event:
            self.frame, self.state, self.step = event, event["state"], event["step"]
        self.history.append({k: event[k] for k in self.metrics if k in event})
        if len(self.history) > 2000:  # keep the curves light: drop every other old point
            self.history = self.history[:1000:2] + self.history[1000:]
