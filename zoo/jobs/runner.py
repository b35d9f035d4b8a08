"""Background training jobs: a warm pool of worker processes, a FIFO queue, limits and cancel.

A job runs a recipe's training generator in a separate Python process, never in a thread of
the Streamlit server: measured on 2 cores, training in a server thread ran at 0.40-0.68x of
a bare loop (GIL contention with reruns), a worker process at 0.91x. Workers are fresh
interpreters (`python -m zoo.jobs.worker`, so CUDA works in them) started once and reused, so a job
does not pay start-up and `import torch`. They are not started with multiprocessing's spawn,
because spawn re-runs the parent's `__main__` in the child, and inside Streamlit that is the
app script itself. Pages use only submit, events, status, cancel and result (and `pace`, for an
estimate before a run), so a Ray backend can later run the same jobs.

A job near its time limit ends early and keeps what it has: its loops ask `zoo.jobs.deadline` and
stop stepping in time for its final figures and weights. The runner times every finished run from
its events (`zoo.jobs.pace`) and keeps the latest per job function, for the estimate before the next.
"""
from __future__ import annotations

import atexit
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any, Callable, Iterator

from zoo import settings
from zoo.jobs.pace import Pace, PaceMeter, plain_settings
from zoo.jobs.worker import send as _send

log = logging.getLogger(__name__)

_FINISHED = frozenset({"done", "failed", "cancelled", "timed_out"})
_GRACE_S = 15.0            # how long a worker may overrun its limit or ignore a cancel before it is killed
_TICK_S = 0.5              # the pool thread checks deadlines at least this often
_KEEP_FINISHED = 200       # finished jobs (and their results) kept for their sessions to collect ...
_KEEP_FINISHED_S = 3600.0  # ... for at most an hour
_EXIT_S = 2.0              # on shutdown, how long workers get to exit before they are killed
_MAX_DRAIN = 1000          # messages read from one worker per turn, so others are not starved
_KEEP_PACES = 64           # job functions whose latest pace is kept
_REPO_ROOT = str(settings.REPOSITORY)


class JobLimitError(RuntimeError):
    """A limit on jobs was hit; the message is meant for the person at the browser."""


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job, for the page to draw."""

    state: str            # "queued" | "running" | "done" | "failed" | "cancelled" | "timed_out"
    position: int | None  # 1-based place in the queue while queued, else None
    error: str | None     # "ValueError: ..." for failed, a sentence for timed_out
    n_events: int
    elapsed_s: float      # running time so far (0 while queued)

    @property
    def finished(self) -> bool:
        """Whether the job has ended and will not change any more."""
        return self.state in _FINISHED


@dataclass(eq=False)
class _Job:
    """The server's record of one job."""

    id: str
    session_id: str
    payload: bytes                   # pickled (fn, kwargs), sent to a worker as is
    sys_path: list[str]              # the submitter's import path, so the worker finds fn's module
    function: str                    # fn's module and name, under which its pace is kept
    meter: PaceMeter                 # times the run from its events
    state: str = "queued"
    events: list[dict] = field(default_factory=list)
    result: Any = None
    error: str | None = None
    started: float | None = None     # time.monotonic() when the worker began it
    ended: float | None = None
    cancel_at: float | None = None   # when a cancel of the running job was asked for
    cancel_sent: bool = False


@dataclass(eq=False)
class _Worker:
    """One worker process and the server's end of its pipe."""

    process: subprocess.Popen
    conn: Connection
    ready: bool = False              # done importing; one that dies before that is not restarted eagerly
    job: _Job | None = None


class JobRunner:
    """Runs training generators in a warm pool of `max_jobs` worker processes.

    Limits come from ZOO_MAX_JOBS (jobs running at once, default 2) and ZOO_JOB_SECONDS
    (running time of one job, default 300) unless given. Further jobs wait in a FIFO queue;
    each session may have one job queued or running. `preload` names modules every worker
    imports at start, so that the first job is warm too; ZOO_WORKER_THREADS, if set, is
    torch's thread count in each worker. A job that ignores a cancel or overruns its limit
    by `grace_seconds` (a step that hangs) has its worker killed and replaced.
    """

    def __init__(self, max_jobs: int | None = None, job_seconds: float | None = None, *,
                 grace_seconds: float = _GRACE_S, preload: tuple[str, ...] = ("torch",)) -> None:
        self.max_jobs = max_jobs if max_jobs is not None else settings.max_jobs()
        self.job_seconds = job_seconds if job_seconds is not None else settings.job_seconds()
        if self.max_jobs < 1 or self.job_seconds <= 0:
            raise ValueError("max_jobs must be at least 1 and job_seconds positive")
        self.grace_seconds = grace_seconds
        self._worker_args = [str(settings.worker_threads()), *preload]
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._queue: deque[_Job] = deque()
        self._paces: dict[str, Pace] = {}  # the latest per job function, oldest first
        self._workers: list[_Worker] = []
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        with self._lock:
            for _ in range(self.max_jobs):
                self._add_worker()
        self._thread = threading.Thread(target=self._serve, name="zoo-jobs", daemon=True)
        self._thread.start()

    # ---- the interface pages use -------------------------------------------------------

    def submit(self, session_id: str, fn: Callable[..., Iterator[dict]], /, **kwargs: Any) -> str:
        """Queue `fn(**kwargs)` for `session_id` and return the new job's id.

        `fn` is a generator function importable by module and name (a recipe's, not a lambda
        or a function defined in a page); its events are small dicts and its return value is
        the job's result. Raises JobLimitError if the session already has a job.
        """
        try:
            payload = pickle.dumps((fn, kwargs))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError("a job needs a module-level function and picklable arguments, "
                            f"since it runs in another process ({exc})") from exc
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner has been shut down")
            if any(job.session_id == session_id and job.state in ("queued", "running")
                   for job in self._jobs.values()):
                raise JobLimitError("You already have a training job running; "
                                    "cancel it or wait for it to finish.")
            self._forget_finished(time.monotonic())
            job = _Job(uuid.uuid4().hex, session_id, payload, _import_path(), _function_name(fn),
                       PaceMeter(plain_settings(kwargs)))
            self._jobs[job.id] = job
            self._queue.append(job)
            self._wake()
        return job.id

    def events(self, job_id: str, since: int = 0) -> list[dict]:
        """The job's events from index `since` on, in the order the generator yielded them."""
        with self._lock:
            return self._job(job_id).events[since:]

    def status(self, job_id: str) -> JobStatus:
        """Where the job stands now."""
        with self._lock:
            job = self._job(job_id)
            position = self._queue.index(job) + 1 if job.state == "queued" else None
            elapsed = 0.0 if job.started is None else (job.ended or time.monotonic()) - job.started
            return JobStatus(job.state, position, job.error, len(job.events), elapsed)

    def cancel(self, job_id: str) -> None:
        """Take a queued job off the queue, or stop a running one after its current step."""
        with self._lock:
            self._cancel(self._job(job_id))

    def cancel_session(self, session_id: str) -> None:
        """Cancel the session's queued or running job, e.g. when its browser session ends."""
        with self._lock:
            for job in self._jobs.values():
                if job.session_id == session_id:
                    self._cancel(job)

    def result(self, job_id: str) -> Any | None:
        """The job's return value once it is done, else None; hand it to its own session only."""
        with self._lock:
            job = self._job(job_id)
            return job.result if job.state == "done" else None

    def pace(self, fn: Callable[..., Iterator[dict]]) -> Pace | None:
        """How the latest finished run of job function `fn` went on this server (None before one has)."""
        with self._lock:
            return self._paces.get(_function_name(fn))

    def shutdown(self) -> None:
        """Cancel every job and stop the workers (they get a moment to exit, then are killed)."""
        with self._lock:
            if self._closed:
                return
            for job in self._jobs.values():
                self._finish(job, "cancelled")
            self._queue.clear()
            self._wake()
            self._closed = True
        self._thread.join()
        with self._lock:
            for worker in self._workers:
                worker.conn.close()  # an idle worker exits at once, a busy one after its step
            deadline = time.monotonic() + _EXIT_S
            for worker in self._workers:
                _reap(worker.process, deadline - time.monotonic())
            self._workers.clear()
            os.close(self._wake_r)
            os.close(self._wake_w)

    # ---- bookkeeping, always with the lock held --------------------------------------------

    def _job(self, job_id: str) -> _Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise KeyError(f"no job {job_id!r}") from None

    def _cancel(self, job: _Job) -> None:
        if job.state == "queued":
            self._queue.remove(job)
            self._finish(job, "cancelled")
        elif job.state == "running" and job.cancel_at is None:
            job.cancel_at = time.monotonic()
            self._wake()

    def _finish(self, job: _Job, state: str, error: str | None = None) -> None:
        """End a job; a job that has ended never changes again."""
        if job.state in _FINISHED:
            return
        job.state, job.error, job.ended, job.payload = state, error, time.monotonic(), b""

    def _forget_finished(self, now: float) -> None:
        """Drop finished jobs beyond the newest _KEEP_FINISHED or older than _KEEP_FINISHED_S."""
        finished = sorted((job for job in self._jobs.values() if job.ended is not None),
                          key=lambda job: job.ended)
        excess = len(finished) - _KEEP_FINISHED
        for i, job in enumerate(finished):
            if i < excess or now - job.ended > _KEEP_FINISHED_S:
                del self._jobs[job.id]

    def _wake(self) -> None:
        """Make the pool thread look at the queue and at cancels now rather than at its next tick."""
        if not self._closed:
            with suppress(BlockingIOError):  # the pipe is full: the thread is awake anyway
                os.write(self._wake_w, b"x")

    def _add_worker(self) -> _Worker:
        ours, theirs = Pipe()
        path = os.pathsep.join(filter(None, [_REPO_ROOT, os.environ.get("PYTHONPATH")]))
        process = subprocess.Popen(
            [sys.executable, "-m", "zoo.jobs.worker", str(theirs.fileno()), *self._worker_args],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": path})
        theirs.close()
        worker = _Worker(process, ours)
        self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker, replace: bool) -> None:
        """Forget a dead or killed worker, reap it, and start a fresh one in its place."""
        self._workers.remove(worker)
        worker.conn.close()
        _reap(worker.process, _EXIT_S)
        if replace and not self._closed:
            self._add_worker()

    # ---- the pool thread: worker messages, deadlines, dispatch -----------------------------

    def _serve(self) -> None:
        """Read worker messages, enforce time limits and cancels, start queued jobs."""
        while True:
            with self._lock:
                if self._closed:
                    return
                by_conn = {worker.conn: worker for worker in self._workers}
            for ready in wait([*by_conn, self._wake_r], timeout=_TICK_S):
                if ready == self._wake_r:
                    os.read(self._wake_r, 4096)
                else:
                    self._receive(by_conn[ready])
            with self._lock:
                outbox = self._enforce_limits(time.monotonic()) + self._dispatch()
            for conn, message in outbox:
                with suppress(OSError):  # a dead worker shows up as end of file on the next turn
                    _send(conn, message)

    def _receive(self, worker: _Worker) -> None:
        """Apply the messages waiting from one worker; notice when it died."""
        messages, lost, unreadable = [], False, None
        try:
            for _ in range(_MAX_DRAIN):
                messages.append(worker.conn.recv())
                if not worker.conn.poll():
                    break
        except (EOFError, OSError):
            lost = True
        except Exception as exc:  # e.g. an event holding a class the server cannot import
            unreadable = f"The job sent data the server could not read ({type(exc).__name__}: {exc})."
        with self._lock:
            for kind, *args in messages:
                self._apply(worker, kind, args)
            if unreadable and worker.job is not None:
                self._finish(worker.job, "failed", unreadable)
                worker.process.kill()
                self._retire(worker, replace=True)
            elif lost:
                _reap(worker.process, _EXIT_S)
                if worker.job is not None:
                    self._finish(worker.job, "failed", _death_message(worker.process.returncode))
                self._retire(worker, replace=worker.ready)

    def _apply(self, worker: _Worker, kind: str, args: list) -> None:
        """Apply one message from a worker to its current job."""
        job = worker.job
        if kind == "ready":
            worker.ready = True
        elif kind == "started":
            job.started = time.monotonic()
            job.meter.start(job.started)
        elif kind == "event":
            job.events.append(args[0])
            job.meter.observe(args[0], time.monotonic())
        else:  # the job ended: "done", "failed", "cancelled" or "timed_out"
            worker.job = None
            if kind == "done":
                job.result = args[0]
                self._finish(job, "done")
                self._keep_pace(job)
            elif kind == "failed":
                log.error("Job %s failed:\n%s", job.id, args[1])
                self._finish(job, "failed", args[0])
            elif kind == "timed_out":
                self._finish(job, "timed_out", f"The job reached its time limit of "
                                               f"{self.job_seconds:g} s and was stopped.")
            else:
                self._finish(job, "cancelled")

    def _enforce_limits(self, now: float) -> list[tuple[Connection, tuple]]:
        """Pass cancels on to workers; kill a worker whose job ignores a cancel or overruns."""
        outbox = []
        for worker in [worker for worker in self._workers if worker.job is not None]:
            job = worker.job
            if job.cancel_at is not None and not job.cancel_sent:
                outbox.append((worker.conn, ("cancel", job.id)))
                job.cancel_sent = True
            elif job.cancel_at is not None and now - job.cancel_at > self.grace_seconds:
                self._kill(worker, "cancelled")
            elif job.started is not None and now - job.started > self.job_seconds + self.grace_seconds:
                self._kill(worker, "timed_out", f"The job reached its time limit of "
                                                f"{self.job_seconds:g} s and did not stop, so its "
                                                "process was stopped.")
        return outbox

    def _keep_pace(self, job: _Job) -> None:
        """Keep a finished run's pace as its job function's latest, within _KEEP_PACES functions."""
        pace = job.meter.pace(job.ended)
        if pace is not None:
            self._paces.pop(job.function, None)
            self._paces[job.function] = pace
            while len(self._paces) > _KEEP_PACES:
                del self._paces[next(iter(self._paces))]

    def _kill(self, worker: _Worker, state: str, error: str | None = None) -> None:
        """End a job that does not stop by itself (a step that hangs) by killing its worker."""
        log.warning("Job %s did not stop in time; killing its worker", worker.job.id)
        self._finish(worker.job, state, error)
        worker.process.kill()
        self._retire(worker, replace=True)

    def _dispatch(self) -> list[tuple[Connection, tuple]]:
        """Hand queued jobs, oldest first, to idle workers (starting workers up to max_jobs)."""
        outbox = []
        idle = [worker for worker in self._workers if worker.job is None]
        while self._queue and (idle or len(self._workers) < self.max_jobs):
            worker = idle.pop(0) if idle else self._add_worker()
            job = worker.job = self._queue.popleft()
            job.state = "running"
            outbox.append((worker.conn, ("run", job.id, job.payload, job.sys_path, self.job_seconds)))
        return outbox

    def _worker_pids(self) -> list[int]:
        """The worker processes' ids, for tests."""
        with self._lock:
            return [worker.process.pid for worker in self._workers]


_runner: JobRunner | None = None
_runner_lock = threading.Lock()


def get_runner() -> JobRunner:
    """The process-wide runner, created at first use and shut down when the server exits."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = JobRunner()
            atexit.register(_runner.shutdown)
        return _runner


def _function_name(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _import_path() -> list[str]:
    return [path or os.getcwd() for path in sys.path]


def _reap(process: subprocess.Popen, timeout: float) -> None:
    """Wait for a process to exit, killing it if it takes longer than `timeout`."""
    try:
        process.wait(timeout=max(timeout, 0.0))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _death_message(code: int) -> str:
    if code >= 0:
        return f"The training process exited unexpectedly (exit code {code})."
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    hint = "; the server may have run out of memory" if -code == signal.SIGKILL else ""
    return f"The training process was killed by {name}{hint}."
