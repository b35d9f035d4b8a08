"""Background training jobs: a pool of worker processes started on demand, a FIFO queue, limits and cancel.

A job runs a recipe's training generator in a separate Python process, never in a thread of
the Streamlit server: measured on 2 cores, training in a server thread ran at 0.40-0.68x of
a bare loop (GIL contention with reruns), a worker process at 0.91x. Workers are fresh
interpreters (`python -m zoo.jobs.worker`, so CUDA works in them), not started with multiprocessing's
spawn, because spawn re-runs the parent's `__main__` in the child, and inside Streamlit that is the
app script itself. Pages use only submit, events, status, cancel and result (and `pace`, for an
estimate before a run, and `runs`, the session's record of its runs: `zoo.jobs.run_log`), so a Ray backend can
later run the same jobs.

A worker starts when a job needs one and serves the jobs that follow until it has been idle for
ZOO_WORKER_IDLE_S. Measured on 2 cores (tests/bench/bench_worker_pool.py): a warm pool of two idle workers
held 440 MB RSS (300-330 MB PSS) while nobody trained, and a worker started on demand delays its job's first
event by about 2 s. Workers forked from a parent that imported torch would share most of an idle worker, but
that parent is itself a process of about 220 MB, kept for good.

A job near its time limit ends early and keeps what it has: its loops ask `zoo.jobs.deadline` and
stop stepping in time for its final figures and weights. The runner times every finished run from
its events (`zoo.jobs.pace`) and keeps the latest per job function, for the estimate before the next.

Everything the runner keeps is bounded, so that no visitor can exhaust a shared server: the queue
(ZOO_MAX_QUEUE; beyond it the server says it is busy), each job's events (`zoo.jobs.history`: thinned,
live frames kept newest only), each message from a worker, and finished jobs: their events and result
go once their session has taken them (`release`) or ended (`cancel_session`); a job id the runner no
longer knows reads as "expired". Each worker runs under a memory limit (ZOO_WORKER_MEMORY_MB) and is
the kernel's first choice when memory runs out. The pool thread survives any one failure and retries
starting workers that could not start.
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

from zoo import i18n, settings
from zoo.i18n import t
from zoo.jobs.history import EventHistory
from zoo.jobs.messages import MessageTooLong, receive, send
from zoo.jobs.pace import Pace, PaceMeter, plain_settings
from zoo.jobs.records import FINISHED, JobLimitError, JobStatus, busy, function_name, to_forget
from zoo.jobs.run_log import RunLog, RunRecord

log = logging.getLogger(__name__)

_GRACE_S = 15.0            # how long a worker may overrun its limit or ignore a cancel before it is killed
_TICK_S = 0.5              # the pool thread checks deadlines at least this often
_MAX_MESSAGE_BYTES = 128 * 2 ** 20    # the longest message a worker may send (an event, a result)
_EXIT_S = 2.0              # on shutdown, how long workers get to exit before they are killed
_MAX_DRAIN = 1000          # messages read from one worker per turn, so others are not starved
_KEEP_PACES = 64           # job functions whose latest pace is kept
_RETRY_S = 2.0             # after a worker failed to start, the next try waits this long, doubled on each ...
_RETRY_MAX_S = 120.0       # ... further failure, up to this
_REPO_ROOT = str(settings.REPOSITORY)
_SPIN_COUNT = "20000"      # how long torch's OpenMP threads spin before they sleep, in a worker (GOMP_SPINCOUNT):
# libgomp's default spins 300,000 times, so the worker's two threads burn a core waiting for each other whenever the
# server or a browser takes some of a core; measured on the CNN page's fine-tune watched in Chromium on 2 cores
# (tests/bench/bench_live_views.py): 0.50x of a bare loop by default, 0.67x fully passive, 0.75x at 20,000
@dataclass(eq=False)
class _Job:
    """The server's record of one job."""

    id: str
    session_id: str
    payload: bytes                   # pickled (fn, kwargs, the visitor's language), sent to a worker as is
    sys_path: list[str]              # the submitter's import path, so the worker finds fn's module
    function: str                    # fn's module and name, under which its pace is kept
    meter: PaceMeter                 # times the run from its events
    state: str = "queued"
    history: EventHistory = field(default_factory=EventHistory)
    result: Any = None
    result_bytes: int = 0
    error: str | None = None
    started: float | None = None     # time.monotonic() when the worker began it
    ended: float | None = None
    cancel_at: float | None = None   # when a cancel of the running job was asked for
    cancel_sent: bool = False
    released: bool = False           # its session needs none of its events and result any more
    session_ended: bool = False      # forget the job as soon as it ends
    language: str = i18n.DEFAULT     # what its visitor reads: the runner's messages about it too

    @property
    def nbytes(self) -> int:
        """What its events and result take, as received."""
        return self.history.nbytes + self.result_bytes

    def release(self) -> None:
        """Drop the events and the result, and any that still come; the record shrinks to its status."""
        self.released = True
        self.history.close()
        self.result, self.result_bytes = None, 0


@dataclass(eq=False)
class _Worker:
    """One worker process and the server's end of its pipe."""

    process: subprocess.Popen
    conn: Connection
    ready: bool = False              # done importing; one that dies before that is not restarted eagerly
    job: _Job | None = None
    idle_since: float = field(default_factory=time.monotonic)  # when it was last ready for a job


class JobRunner:
    """Runs training generators in up to `max_jobs` worker processes, started as jobs need them.

    Limits come from ZOO_MAX_JOBS (jobs running at once, default 2), ZOO_JOB_SECONDS (running time
    of one job, default 300), ZOO_MAX_QUEUE (jobs waiting for a slot, default 10) and
    ZOO_WORKER_MEMORY_MB (the memory of one worker) unless given. Further jobs wait in a FIFO queue;
    each session may have one job queued or running. A worker idle for `idle_seconds` (ZOO_WORKER_IDLE_S,
    default 300; 0 ends it after each job) exits. `preload` names modules every worker imports as it starts;
    ZOO_WORKER_THREADS, if set, is torch's thread count in each worker. A job that ignores a cancel or
    overruns its limit by `grace_seconds` (a step that hangs) has its worker killed.
    """

    def __init__(self, max_jobs: int | None = None, job_seconds: float | None = None, *,
                 max_queue: int | None = None, worker_memory_mb: float | None = None,
                 idle_seconds: float | None = None, grace_seconds: float = _GRACE_S,
                 preload: tuple[str, ...] = ("torch",)) -> None:
        self.max_jobs = max_jobs if max_jobs is not None else settings.max_jobs()
        self.job_seconds = job_seconds if job_seconds is not None else settings.job_seconds()
        self.max_queue = max_queue if max_queue is not None else settings.max_queue()
        self.worker_memory_mb = worker_memory_mb if worker_memory_mb is not None else settings.worker_memory_mb()
        self.idle_seconds = idle_seconds if idle_seconds is not None else settings.worker_idle_seconds()
        if (self.max_jobs < 1 or self.job_seconds <= 0 or self.max_queue < 0 or self.worker_memory_mb <= 0
                or self.idle_seconds < 0):
            raise ValueError("max_jobs must be at least 1, max_queue and idle_seconds at least 0, job_seconds and "
                             "worker_memory_mb positive")
        self.grace_seconds = grace_seconds
        self._worker_args = [str(settings.worker_threads()), f"{self.worker_memory_mb:g}", *preload]
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._queue: deque[_Job] = deque()
        self._paces: dict[str, Pace] = {}  # the latest per job function, oldest first
        self._runs = RunLog()              # every session's runs, for the Runs page
        self._workers: list[_Worker] = []
        self._leaving: list[tuple[subprocess.Popen, float]] = []  # retired idle workers and when to kill them
        self._failed_starts = 0            # in a row: workers that could not start or died before they were ready
        self._next_start = 0.0             # time.monotonic() before which no worker is started
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._serve, name="zoo-jobs", daemon=True)
        self._thread.start()

    # ---- the interface pages use -------------------------------------------------------

    def submit(self, session_id: str, fn: Callable[..., Iterator[dict]], page: str = "", /, **kwargs: Any) -> str:
        """Queue `fn(**kwargs)` for `session_id` and return the new job's id; the session's runs record it as
        started from `page` (`runs`).

        `fn` is a generator function importable by module and name (a recipe's, not a lambda
        or a function defined in a page); its events are small dicts and its return value is
        the job's result. Raises JobLimitError if the session already has a job or the queue is full.
        """
        try:
            language = i18n.language()
            payload = pickle.dumps((fn, kwargs, language))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError("a job needs a module-level function and picklable arguments, "
                            f"since it runs in another process ({exc})") from exc
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner has been shut down")
            active = [job for job in self._jobs.values() if job.state in ("queued", "running")]
            if any(job.session_id == session_id for job in active):
                raise JobLimitError(t("jobs.already_running"))
            if len(active) >= self.max_jobs + self.max_queue:
                raise JobLimitError(busy(self.max_jobs, len(self._queue)))
            job = _Job(uuid.uuid4().hex, session_id, payload, _import_path(), function_name(fn),
                       PaceMeter(plain_settings(kwargs)), language=language)
            self._jobs[job.id] = job
            self._runs.submitted(job.id, session_id, page, job.function, kwargs)
            self._queue.append(job)
            self._wake()
        return job.id

    def events(self, job_id: str, since: int = 0, until: int | None = None) -> list[dict]:
        """The job's kept events among the `since`-th to the `until`-th it yielded (to its latest when None),
        in order: a long history is thinned and a live frame keeps only its numbers once a newer one came
        (`zoo.jobs.history`). An empty list once the job is released or expired."""
        with self._lock:
            job = self._jobs.get(job_id)
            return [] if job is None else job.history.since(since, until)

    def status(self, job_id: str) -> JobStatus:
        """Where the job stands now; "expired", with a sentence, for a job id the runner does not know."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return JobStatus("expired", None, t("jobs.expired"), 0, 0.0)
            position = self._queue.index(job) + 1 if job.state == "queued" else None
            elapsed = 0.0 if job.started is None else (job.ended or time.monotonic()) - job.started
            return JobStatus(job.state, position, job.error, job.history.received, elapsed)

    def cancel(self, job_id: str) -> None:
        """Take a queued job off the queue, or stop a running one after its current step."""
        with self._lock:
            if job_id in self._jobs:
                self._cancel(self._jobs[job_id])

    def cancel_session(self, session_id: str) -> None:
        """End the session's jobs when its browser session ends: cancel its queued or running job and
        forget its records (a running one as soon as it has stopped)."""
        with self._lock:
            self._runs.end_session(session_id)
            for job in [job for job in self._jobs.values() if job.session_id == session_id]:
                job.session_ended = True
                job.release()
                self._cancel(job)
                if job.state in FINISHED:
                    self._jobs.pop(job.id, None)

    def result(self, job_id: str) -> Any | None:
        """The job's return value once it is done, else None; hand it to its own session only."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job.result if job is not None and job.state == "done" else None

    def release(self, job_id: str) -> None:
        """The session has taken what it needs of the job: drop its events and result (of a running one,
        also those still to come) and keep only its status."""
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].release()

    def pace(self, fn: Callable[..., Iterator[dict]]) -> Pace | None:
        """How the latest finished run of job function `fn` went on this server (None before one has)."""
        with self._lock:
            return self._paces.get(function_name(fn))

    def runs(self, session_id: str) -> list[RunRecord]:
        """The session's training runs, oldest first, released ones too, until the session ends (`zoo.jobs.run_log`)."""
        with self._lock:
            return self._runs.runs(session_id)

    def shutdown(self) -> None:
        """Cancel every job and stop the workers (they get a moment to exit, then are killed)."""
        with self._lock:
            if self._closed:
                return
            for job in list(self._jobs.values()):
                self._finish(job, "cancelled")
            self._queue.clear()
            self._wake()
            self._closed = True
        self._thread.join()
        with self._lock:
            for worker in self._workers:
                worker.conn.close()  # an idle worker exits at once, a busy one after its step
            deadline = time.monotonic() + _EXIT_S
            for process in [worker.process for worker in self._workers] + [process for process, _ in self._leaving]:
                _reap(process, deadline - time.monotonic())
            self._workers.clear()
            self._leaving.clear()
            os.close(self._wake_r)
            os.close(self._wake_w)

    # ---- bookkeeping, always with the lock held --------------------------------------------

    def _cancel(self, job: _Job) -> None:
        if job.state == "queued":
            self._queue.remove(job)
            self._finish(job, "cancelled")
        elif job.state == "running" and job.cancel_at is None:
            job.cancel_at = time.monotonic()
            self._wake()

    def _finish(self, job: _Job, state: str, error: str | None = None) -> None:
        """End a job; a job that has ended never changes again. One whose session has ended is forgotten."""
        if job.state in FINISHED:
            return
        job.state, job.error, job.ended, job.payload = state, error, time.monotonic(), b""
        self._runs.ended(job.id, state, error)
        if job.session_ended:
            self._jobs.pop(job.id, None)

    def _forget_finished(self, now: float) -> None:
        """Forget the finished jobs that `records.to_forget` names."""
        finished = [job for job in self._jobs.values() if job.ended is not None]
        for job in to_forget(finished, now, ended=lambda job: job.ended, nbytes=lambda job: job.nbytes):
            del self._jobs[job.id]

    def _wake(self) -> None:
        """Make the pool thread look at the queue and at cancels now rather than at its next tick."""
        if not self._closed:
            with suppress(BlockingIOError):  # the pipe is full: the thread is awake anyway
                os.write(self._wake_w, b"x")

    def _start_workers(self, now: float) -> None:
        """Start a worker for each queued job that no idle one will take, up to max_jobs; after a start that
        failed (no memory or processes left, or a worker that died before it was ready) wait _RETRY_S, doubled
        with each further failure, before the next."""
        def needed() -> bool:
            idle = sum(worker.job is None for worker in self._workers)
            return len(self._queue) > idle and len(self._workers) < self.max_jobs

        while needed() and now >= self._next_start and not self._closed:
            try:
                self._add_worker()
            except OSError as exc:
                self._start_failed(now, f"could not start a job worker ({exc})")

    def _start_failed(self, now: float, what: str) -> None:
        delay = min(_RETRY_S * 2 ** self._failed_starts, _RETRY_MAX_S)
        self._failed_starts += 1
        self._next_start = now + delay
        log.error("The job runner %s; trying again in %g s", what, delay)

    def _add_worker(self) -> _Worker:
        ours, theirs = Pipe()
        path = os.pathsep.join(filter(None, [_REPO_ROOT, os.environ.get("PYTHONPATH")]))
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "zoo.jobs.worker", str(theirs.fileno()), *self._worker_args],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env={"GOMP_SPINCOUNT": _SPIN_COUNT, **os.environ, "PYTHONPATH": path})
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        worker = _Worker(process, ours)
        self._workers.append(worker)
        return worker

    def _retire_idle(self, now: float) -> None:
        """Let workers idle for idle_seconds go while no job waits: with its pipe closed, an idle worker exits at
        once; it is reaped on a later turn (killed if it takes longer than _EXIT_S), so that no call waits on it."""
        for process, deadline in list(self._leaving):
            if process.poll() is None and now > deadline:
                process.kill()
            elif process.poll() is not None:
                self._leaving.remove((process, deadline))
        if self._queue:
            return
        for worker in [worker for worker in self._workers if worker.ready and worker.job is None]:
            if now - worker.idle_since >= self.idle_seconds:
                self._workers.remove(worker)
                worker.conn.close()
                self._leaving.append((worker.process, now + _EXIT_S))

    def _retire(self, worker: _Worker) -> None:
        """Forget a dead or killed worker and reap it; the next job that needs a worker starts a fresh one."""
        self._workers.remove(worker)
        worker.conn.close()
        _reap(worker.process, _EXIT_S)
        if not worker.ready:
            self._start_failed(time.monotonic(), f"saw a worker exit before it was ready "
                                                 f"({_death_message(worker.process.returncode)})")

    # ---- the pool thread: worker messages, deadlines, dispatch -----------------------------

    def _serve(self) -> None:
        """Read worker messages, enforce time limits and cancels, start workers and queued jobs; an
        error in one turn is logged and the next turn goes on."""
        while True:
            with self._lock:
                if self._closed:
                    return
            try:
                self._turn()
            except Exception:
                log.exception("The job runner's pool thread failed in one turn; it goes on")
                time.sleep(_TICK_S)

    def _turn(self) -> None:
        """One turn of the pool thread: at most _TICK_S waiting for messages, then the bookkeeping."""
        with self._lock:
            by_conn = {worker.conn: worker for worker in self._workers}
        for ready in wait([*by_conn, self._wake_r], timeout=_TICK_S):
            if ready == self._wake_r:
                os.read(self._wake_r, 4096)
            else:
                self._receive(by_conn[ready])
        with self._lock:
            now = time.monotonic()
            outbox = self._enforce_limits(now)
            self._retire_idle(now)
            self._start_workers(now)
            outbox += self._dispatch()
            self._forget_finished(now)
        for conn, message in outbox:
            with suppress(OSError):  # a dead worker shows up as end of file on the next turn
                send(conn, message)

    def _receive(self, worker: _Worker) -> None:
        """Apply the messages waiting from one worker; notice when it died."""
        messages, lost, unreadable = [], False, None
        job = worker.job
        try:
            for _ in range(_MAX_DRAIN):
                messages.append(receive(worker.conn, _MAX_MESSAGE_BYTES))
                if not worker.conn.poll():
                    break
        except (EOFError, OSError):
            lost = True
        except MessageTooLong as exc:
            unreadable = _said(job, "jobs.too_long", what=str(exc))
        except Exception as exc:  # e.g. an event holding a class the server cannot import
            unreadable = _said(job, "jobs.unreadable", error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            for (kind, *args), nbytes in messages:
                self._apply(worker, kind, args, nbytes)
            if unreadable and worker.job is not None:
                self._finish(worker.job, "failed", unreadable)
                worker.process.kill()
                self._retire(worker)
            elif lost:
                _reap(worker.process, _EXIT_S)
                if worker.job is not None and worker.job.started is None and worker.job.state == "running":
                    self._requeue(worker.job)  # its worker died before it began: the next worker takes it
                elif worker.job is not None:
                    self._finish(worker.job, "failed", _death_message(worker.job, worker.process.returncode))
                self._retire(worker)

    def _apply(self, worker: _Worker, kind: str, args: list, nbytes: int) -> None:
        """Apply one message (`nbytes` long) from a worker to its current job."""
        job = worker.job
        if kind == "ready":
            worker.ready, worker.idle_since = True, time.monotonic()
            self._failed_starts = 0
        elif kind == "started":
            job.started = time.monotonic()
            job.meter.start(job.started)
            self._runs.started(job.id)
        elif kind == "event":
            job.meter.observe(args[0], time.monotonic())
            job.history.add(args[0], nbytes)
            self._runs.observe(job.id, args[0])
        else:  # the job ended: "done", "failed", "cancelled" or "timed_out"
            worker.job, worker.idle_since = None, time.monotonic()
            if kind == "done":
                if not job.released:
                    job.result, job.result_bytes = args[0], nbytes
                self._finish(job, "done")
                self._keep_pace(job)
            elif kind == "failed":
                log.error("Job %s failed:\n%s", job.id, args[1])
                self._finish(job, "failed", args[0])
            elif kind == "timed_out":
                self._finish(job, "timed_out", _said(job, "jobs.time_limit", seconds=self.job_seconds))
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
                self._kill(worker, "timed_out", _said(job, "jobs.time_limit_killed", seconds=self.job_seconds))
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
        self._retire(worker)

    def _requeue(self, job: _Job) -> None:
        """Put a job back at the head of the queue (its worker died while starting); a cancelled one ends."""
        if job.cancel_at is not None:
            self._finish(job, "cancelled")
        else:
            job.state = "queued"
            self._queue.appendleft(job)

    def _dispatch(self) -> list[tuple[Connection, tuple]]:
        """Hand queued jobs, oldest first, to idle workers; one still starting reads its job once it is ready."""
        outbox = []
        idle = [worker for worker in self._workers if worker.job is None]
        while self._queue and idle:
            worker = idle.pop(0)
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
    """The process-wide runner of ZOO_JOB_BACKEND (this server's worker pool, or a Ray cluster's
    `zoo.jobs.ray_runner.RayJobRunner`), created at first use and shut down when the server exits."""
    global _runner
    with _runner_lock:
        if _runner is None:
            if settings.job_backend() == "ray":
                from zoo.jobs.ray_runner import RayJobRunner
                _runner = RayJobRunner()
            else:
                _runner = JobRunner()
            atexit.register(_runner.shutdown)
        return _runner


def _import_path() -> list[str]:
    return [path or os.getcwd() for path in sys.path]


def _reap(process: subprocess.Popen, timeout: float) -> None:
    """Wait for a process to exit, killing it if it takes longer than `timeout`."""
    try:
        process.wait(timeout=max(timeout, 0.0))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _said(job: _Job | None, key: str, **values: Any) -> str:
    """`t(key, **values)` in the language of the job's visitor: the runner's threads belong to no session."""
    return i18n.t_for(job.language if job else i18n.DEFAULT, key, **values)


def _death_message(job: _Job, code: int) -> str:
    if code >= 0:
        return _said(job, "jobs.exited", code=code)
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = str(-code)
    return _said(job, "jobs.killed_out_of_memory" if -code == signal.SIGKILL else "jobs.killed", signal=name)
