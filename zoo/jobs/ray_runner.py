"""Background training jobs on a Ray cluster (ZOO_JOB_BACKEND=ray), behind the interface of the local runner:
submit, events, status, cancel, cancel_session, result, release, pace, runs and JobLimitError, with its limits (ZOO_MAX_JOBS
jobs on the cluster at once, a FIFO queue of ZOO_MAX_QUEUE, one job per session, ZOO_JOB_SECONDS) and its bounded
event history. Each job is a Ray task (`zoo.jobs.ray_task`) asking for ZOO_WORKER_THREADS CPUs (at least 1) and,
when its function picks a torch device, ZOO_RAY_GPUS_PER_JOB GPUs (1 on a cluster with GPUs); a job Ray cannot place
yet shows as queued. Its result stays in the object store until its session takes it, and is freed on release.

The server connects as a Ray Client (RAY_ADDRESS=ray://HEAD:10001), once per process, from the runner's thread and
never per rerun. Measured with ray 2.60: a server that joined the cluster as a driver (HEAD:6379) is ended by Ray
60 s after the head stops ("Failed to connect to GCS within 60 seconds ... The program will terminate"); a Ray
Client gets a ConnectionError after its reconnect grace (RAY_CLIENT_RECONNECT_GRACE_PERIOD, 30 s) and the server
goes on: its running jobs fail with a sentence, and the runner connects again for the next job. Workers find the
code and checkpoints in their own copy of the repository at the server's path (the same image on every node).
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

os.environ.setdefault("RAY_ENABLE_AUTO_CONNECT", "0")  # a Ray call while not connected must fail, not start Ray here
import ray  # noqa: E402
from ray import exceptions as ray_errors  # noqa: E402
from ray.util.client import ray as ray_client  # noqa: E402

from zoo import devices, i18n, settings  # noqa: E402
from zoo.i18n import t  # noqa: E402
from zoo.jobs import ray_task  # noqa: E402
from zoo.jobs.history import EventHistory  # noqa: E402
from zoo.jobs.pace import Pace, PaceMeter, plain_settings  # noqa: E402
from zoo.jobs.records import (FINISHED, JobLimitError, JobStatus, busy, function_name,  # noqa: E402
                              to_forget)
from zoo.jobs.run_log import RunLog, RunRecord  # noqa: E402

log = logging.getLogger(__name__)

_GRACE_S = 15.0            # how long a job may overrun its limit or ignore a cancel before its worker is killed
_TICK_S = 0.1              # while jobs are active the runner reads the mailbox this often
_IDLE_S = 1.0              # and with none, looks at its queue this often (no Ray call)
_CALL_S = 60.0             # the longest one Ray call of the runner may take
_RETRY_S = 2.0             # after a failed connection the next try waits this long, doubled each time ...
_RETRY_MAX_S = 60.0        # ... up to this
_CONNECT_TRIES = 3         # Ray's client server sometimes fails to start the server for a new client: try again
_MAILBOX = ray.remote(num_cpus=0, max_restarts=0)(ray_task.Mailbox)
_RUN_JOB = ray.remote(num_returns=2, max_retries=0)(ray_task.run_job)
_WARM_UP = ray.remote(max_retries=0)(ray_task.warm_up)
_connect_lock = threading.Lock()


class ClusterUnreachable(JobLimitError):
    """The Ray cluster cannot take a job now; the message says why, for the person at the browser."""


def lost(address: str, language: str = i18n.DEFAULT) -> str:
    """What a person reads when the cluster went away under their running job."""
    return i18n.t_for(language, "jobs.cluster.lost", address=address)


def uses_gpu(fn: Callable) -> bool:
    """Whether job function `fn` can use a GPU: its module picks a torch device (`zoo.devices.pick_device`).
    The live boards, the DQN and Word2Vec's jobs stay on the CPU by design and do not hold a GPU."""
    return any(value is devices.pick_device for value in getattr(fn, "__globals__", {}).values())


@dataclass(eq=False)
class _Job:
    """The server's record of one job on the cluster."""

    id: str
    number: int                      # the order of submission, for the place in the queue
    session_id: str
    payload: bytes                   # pickled (fn, kwargs, the visitor's language), unpickled by the task
    function: str                    # fn's module and name, under which its pace is kept
    wants_gpu: bool                  # its function picks a torch device
    meter: PaceMeter
    state: str = "queued"
    history: EventHistory = field(default_factory=EventHistory)
    outcome_ref: Any = None          # the task's first return: how it ended
    result_ref: Any = None           # its second: the result, in the object store until taken or released
    worker: dict | None = None       # where it ran: {"node", "pid"}
    error: str | None = None
    started: float | None = None
    ended: float | None = None
    cancel_at: float | None = None   # when a cancel of the running job was asked for
    cancel_sent: bool = False
    released: bool = False
    session_ended: bool = False
    language: str = i18n.DEFAULT     # what its visitor reads: the runner's messages about it too

    def release(self) -> None:
        """Drop the events and the result's reference (Ray frees it); the record shrinks to its status."""
        self.released = True
        self.history.close()
        self.result_ref = None


class RayJobRunner:
    """Runs training generators as Ray tasks on the cluster at `address` (RAY_ADDRESS).

    Limits as in `zoo.jobs.runner.JobRunner`: `max_jobs` jobs on the cluster at once (ZOO_MAX_JOBS), a FIFO queue
    of `max_queue` (ZOO_MAX_QUEUE), `job_seconds` each (ZOO_JOB_SECONDS), one job per session. `preload` names
    modules imported by a warm-up task per slot once connected, so that the first job finds them imported.
    """

    def __init__(self, max_jobs: int | None = None, job_seconds: float | None = None, *,
                 max_queue: int | None = None, address: str | None = None, gpus_per_job: float | None = None,
                 grace_seconds: float = _GRACE_S, preload: tuple[str, ...] = ("torch",)) -> None:
        self.address = address or settings.ray_address()
        self.max_jobs = max_jobs if max_jobs is not None else settings.max_jobs()
        self.job_seconds = job_seconds if job_seconds is not None else settings.job_seconds()
        self.max_queue = max_queue if max_queue is not None else settings.max_queue()
        if self.max_jobs < 1 or self.job_seconds <= 0 or self.max_queue < 0:
            raise ValueError("max_jobs must be at least 1, max_queue at least 0, job_seconds positive")
        self.cpus_per_job = settings.worker_threads() or 1
        self.gpus_per_job = gpus_per_job if gpus_per_job is not None else settings.ray_gpus_per_job()
        self.grace_seconds = grace_seconds
        self.preload = preload
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._numbers = itertools.count()
        self._queue: deque[_Job] = deque()    # not yet handed to Ray
        self._cancels: list[Any] = []         # tasks of queued jobs cancelled after they were handed to Ray
        self._paces: dict[str, Pace] = {}
        self._runs = RunLog()                 # every session's runs, for the Runs page
        self._mailbox: Any = None             # set while connected
        self._unreachable = False  # since the last connection failed, until one succeeds
        self._next_connect = 0.0
        self._failed_connects = 0
        self._closed = False
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="zoo-ray-jobs", daemon=True)
        self._thread.start()

    # ---- the interface pages use -------------------------------------------------------

    def submit(self, session_id: str, fn: Callable[..., Iterator[dict]], page: str = "", /, **kwargs: Any) -> str:
        """Queue `fn(**kwargs)` for `session_id` and return the new job's id, recorded as a run started from `page`;
        raises JobLimitError if the session already has a job or the queue is full, ClusterUnreachable (one) if the
        cluster cannot be reached."""
        try:
            language = i18n.language()
            payload = pickle.dumps((fn, kwargs, language))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError("a job needs a module-level function and picklable arguments, "
                            f"since it runs in another process ({exc})") from exc
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner has been shut down")
            if self._unreachable:
                raise ClusterUnreachable(t("jobs.cluster.unreachable", address=self.address))
            active = [job for job in self._jobs.values() if job.state in ("queued", "running")]
            if any(job.session_id == session_id for job in active):
                raise JobLimitError(t("jobs.already_running"))
            if len(active) >= self.max_jobs + self.max_queue:
                raise JobLimitError(busy(self.max_jobs, sum(job.state == "queued" for job in active)))
            job = _Job(uuid.uuid4().hex, next(self._numbers), session_id, payload, function_name(fn), uses_gpu(fn),
                       PaceMeter(plain_settings(kwargs)), language=language)
            self._jobs[job.id] = job
            self._runs.submitted(job.id, session_id, page, job.function, kwargs)
            self._queue.append(job)
        self._wake.set()
        return job.id

    def events(self, job_id: str, since: int = 0, until: int | None = None) -> list[dict]:
        """The job's kept events among the `since`-th to the `until`-th it yielded, as `JobRunner.events`."""
        with self._lock:
            job = self._jobs.get(job_id)
            return [] if job is None else job.history.since(since, until)

    def status(self, job_id: str) -> JobStatus:
        """Where the job stands now: queued (with its place) until its task has started on the cluster."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return JobStatus("expired", None, t("jobs.expired"), 0, 0.0)
            position = None
            if job.state == "queued":
                position = 1 + sum(other.state == "queued" and other.number < job.number
                                   for other in self._jobs.values())
            elapsed = 0.0 if job.started is None else (job.ended or time.monotonic()) - job.started
            return JobStatus(job.state, position, job.error, job.history.received, elapsed)

    def cancel(self, job_id: str) -> None:
        """Take a queued job off the queue (or off Ray's), or stop a running one (Ray interrupts its step)."""
        with self._lock:
            if job_id in self._jobs:
                self._cancel(self._jobs[job_id])
        self._wake.set()

    def cancel_session(self, session_id: str) -> None:
        """End the session's jobs when its browser session ends and forget them (a running one once stopped)."""
        with self._lock:
            self._runs.end_session(session_id)
            for job in [job for job in self._jobs.values() if job.session_id == session_id]:
                job.session_ended = True
                job.release()
                self._cancel(job)
                if job.state in FINISHED:
                    self._jobs.pop(job.id, None)
        self._wake.set()

    def result(self, job_id: str) -> Any | None:
        """The job's return value once it is done, fetched from the object store; None before, or once released."""
        with self._lock:
            job = self._jobs.get(job_id)
            ref = job.result_ref if job is not None and job.state == "done" else None
        if ref is None:
            return None
        try:
            return ray.get(ref, timeout=_CALL_S)
        except Exception:
            log.exception("Could not fetch the result of job %s from the cluster", job_id)
            return None

    def release(self, job_id: str) -> None:
        """The session has taken what it needs: drop the job's events and free its result in the object store."""
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].release()

    def pace(self, fn: Callable[..., Iterator[dict]]) -> Pace | None:
        """How the latest finished run of job function `fn` went on the cluster (None before one has)."""
        with self._lock:
            return self._paces.get(function_name(fn))

    def runs(self, session_id: str) -> list[RunRecord]:
        """The session's training runs, oldest first, as `JobRunner.runs`."""
        with self._lock:
            return self._runs.runs(session_id)

    def shutdown(self) -> None:
        """Cancel every job and stop the runner's thread; the process's connection to the cluster stays."""
        with self._lock:
            if self._closed:
                return
            refs = [job.outcome_ref for job in self._jobs.values()
                    if job.outcome_ref is not None and job.state not in FINISHED]
            for job in list(self._jobs.values()):
                self._finish(job, "cancelled")
            self._queue.clear()
            self._closed = True
        self._wake.set()
        self._thread.join()
        if self._mailbox is not None and ray.is_initialized():
            for ref in refs:
                ray.cancel(ref, force=True)
            ray.kill(self._mailbox)

    # ---- bookkeeping, always with the lock held --------------------------------------------

    def _cancel(self, job: _Job) -> None:
        if job.state == "queued":
            if job in self._queue:
                self._queue.remove(job)
            elif job.outcome_ref is not None:  # handed to Ray, not started: the thread takes it off Ray's queue
                self._cancels.append(job.outcome_ref)
            self._finish(job, "cancelled")
        elif job.state == "running" and job.cancel_at is None:
            job.cancel_at = time.monotonic()

    def _finish(self, job: _Job, state: str, error: str | None = None) -> None:
        """End a job; it never changes again. One whose session has ended is forgotten."""
        if job.state in FINISHED:
            return
        job.state, job.error, job.ended, job.payload = state, error, time.monotonic(), b""
        self._runs.ended(job.id, state, error)
        if state != "done":
            job.result_ref = None
        if job.session_ended:
            self._jobs.pop(job.id, None)

    def _forget_finished(self, now: float) -> None:
        """Forget the finished jobs, their outcome collected, that `records.to_forget` names (counting their events;
        a result waits in the object store)."""
        finished = [job for job in self._jobs.values() if job.ended is not None and job.outcome_ref is None]
        for job in to_forget(finished, now, ended=lambda job: job.ended, nbytes=lambda job: job.history.nbytes):
            del self._jobs[job.id]

    # ---- the runner's thread: connection, mailbox, outcomes, limits, dispatch ------------------

    def _serve(self) -> None:
        """Connect (at once, and again after a failure or a loss), then take turns while jobs are active, until shut
        down; a lost connection fails the running jobs with a sentence, any other error in one turn is logged and the
        next turn goes on."""
        while True:
            with self._lock:
                if self._closed:
                    return
                active = bool(self._cancels) or any(job.state not in FINISHED or job.outcome_ref is not None
                                                    for job in self._jobs.values())
            try:
                if self._mailbox is None and time.monotonic() >= self._next_connect:
                    self._connect()
                if self._mailbox is not None and active:
                    self._turn()
            except Exception as exc:
                if isinstance(exc, ConnectionError) or not ray.is_initialized():
                    self._lose_connection(exc)
                else:
                    log.exception("The Ray job runner failed in one turn; it goes on")
            self._wake.wait(_TICK_S if active else _IDLE_S)
            self._wake.clear()

    def _connect(self) -> None:
        """Connect this process to the cluster (once for all runners in it), start this runner's mailbox and
        warm a worker per slot; on failure say why to the next submits and try again later."""
        try:
            with _connect_lock:
                for attempt in range(_CONNECT_TRIES):
                    if ray.is_initialized():
                        break
                    try:
                        ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False,
                                 runtime_env={"env_vars": {"PYTHONPATH": str(settings.REPOSITORY)}})
                    except ConnectionAbortedError:  # "Starting Ray client server failed": the head is there
                        if attempt == _CONNECT_TRIES - 1:
                            raise
            mailbox = _MAILBOX.remote()
            if self.gpus_per_job is None:
                self.gpus_per_job = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
            if self.preload:
                for _ in range(self.max_jobs):
                    _WARM_UP.options(num_cpus=self.cpus_per_job).remote(self.preload)
        except Exception as exc:
            self._failed_connects += 1
            delay = min(_RETRY_S * 2 ** (self._failed_connects - 1), _RETRY_MAX_S)
            self._next_connect = time.monotonic() + delay
            log.error("Could not connect to the Ray cluster at %s (%s: %s); trying again in %g s",
                      self.address, type(exc).__name__, exc, delay)
            with self._lock:
                self._unreachable = True
                for job in [job for job in self._jobs.values() if job.state == "queued"]:
                    if job in self._queue:
                        self._queue.remove(job)
                    self._finish(job, "failed", i18n.t_for(job.language, "jobs.cluster.unreachable", address=self.address))
            return
        self._mailbox, self._failed_connects = mailbox, 0
        with self._lock:
            self._unreachable = False
        log.info("Connected to the Ray cluster at %s", self.address)

    def _lose_connection(self, exc: BaseException) -> None:
        """The cluster went away: fail every job it had, and connect afresh for the next."""
        log.error("Lost the Ray cluster at %s (%s: %s)", self.address, type(exc).__name__, exc)
        with self._lock:
            for job in self._jobs.values():
                job.outcome_ref = job.result_ref = None
                if job.state not in FINISHED and job not in self._queue:
                    self._finish(job, "failed", lost(self.address, job.language))
        self._mailbox = None
        with _connect_lock:
            ray_client.disconnect()  # forgets the lost connection (ray.shutdown() leaves it counted)

    def _turn(self) -> None:
        """One turn: see which tasks ended, then take the mailbox (the ended ones' events are all in it by now),
        apply both, enforce limits, and hand queued jobs to Ray."""
        with self._lock:
            on_cluster = {job.outcome_ref: job for job in self._jobs.values() if job.outcome_ref is not None}
        ended = []
        if on_cluster:
            ended, _ = ray.wait(list(on_cluster), num_returns=len(on_cluster), timeout=0)
        messages = ray.get(self._mailbox.take.remote(), timeout=_CALL_S)
        outcomes = [(on_cluster[ref], self._outcome(ref, on_cluster[ref].language)) for ref in ended]
        with self._lock:
            now = time.monotonic()
            for job_id, blobs in messages.items():
                if job_id in self._jobs:
                    self._apply(self._jobs[job_id], [(pickle.loads(blob), len(blob)) for blob in blobs], now)
            for job, outcome in outcomes:
                self._end(job, outcome)
            cancels = self._enforce_limits(now)
            dispatch = self._take_slots()
            self._forget_finished(now)
        for ref, force in cancels:
            ray.cancel(ref, force=force)
        for job in dispatch:
            self._dispatch(job)

    def _apply(self, job: _Job, messages: list[tuple[tuple, int]], now: float) -> None:
        """Apply what a job's task posted since the last turn, each message with its size: "started", and events
        timed from the task's start. Messages arrive up to a tick late, so the least delayed one (the newest) tells
        best when the task started, and the events are placed in time from there."""
        for (kind, body, *seconds), nbytes in messages:
            if kind == "started":
                job.worker, job.started = body, now
                if job.state == "queued":
                    job.state = "running"
        timed = [seconds[0] for (kind, body, *seconds), _ in messages if kind == "event"]
        if timed:
            job.started = min(job.started, now - timed[-1])
        job.meter.started = job.started
        wall = time.time() - now  # what to add to a monotonic time to make it a wall time
        if any(kind == "started" for (kind, *_), _ in messages):
            self._runs.started(job.id, wall + job.started)
        for (kind, body, *seconds), nbytes in messages:
            if kind == "event":
                job.meter.observe(body, job.started + seconds[0])
                job.history.add(body, nbytes)
                self._runs.observe(job.id, body, wall + job.started + seconds[0])

    def _outcome(self, ref: Any, language: str) -> tuple:
        """How a task ended, from its first return value; Ray's errors become the runner's outcomes, said in the
        job's `language`."""
        try:
            return ray.get(ref, timeout=_CALL_S)
        except ray_errors.TaskCancelledError:
            return ("cancelled",)
        except ray_errors.OutOfMemoryError:
            return ("failed", i18n.t_for(language, "jobs.cluster.out_of_memory"), "")
        except (ray_errors.WorkerCrashedError, ray_errors.NodeDiedError) as exc:
            return ("failed", i18n.t_for(language, "jobs.cluster.died"), str(exc))
        except ray_errors.RayError as exc:
            return ("failed", i18n.t_for(language, "jobs.cluster.failed", error=type(exc).__name__), str(exc))

    def _end(self, job: _Job, outcome: tuple) -> None:
        """Apply how a job's task ended; a job already finished (cancelled, killed) keeps its state."""
        kind, *details = outcome
        result_ref, job.outcome_ref = job.result_ref, None
        if job.state in FINISHED:
            job.result_ref = None
            return
        if kind == "done":
            job.result_ref = None if job.released else result_ref
            self._finish(job, "done")
            self._keep_pace(job)
        elif kind == "failed":
            log.error("Job %s failed:\n%s", job.id, details[1])
            self._finish(job, "failed", details[0])
        elif kind == "timed_out":
            self._finish(job, "timed_out", i18n.t_for(job.language, "jobs.time_limit", seconds=self.job_seconds))
        else:
            self._finish(job, "cancelled")

    def _enforce_limits(self, now: float) -> list[tuple[Any, bool]]:
        """The cancels to send: a cancel asked for (forced after the grace), a job past its hard time limit."""
        cancels, self._cancels = [(ref, False) for ref in self._cancels], []
        for job in [job for job in self._jobs.values() if job.outcome_ref is not None and job.state == "running"]:
            if job.cancel_at is not None and not job.cancel_sent:
                cancels.append((job.outcome_ref, False))
                job.cancel_sent = True
            elif job.cancel_at is not None and now - job.cancel_at > self.grace_seconds:
                cancels.append((job.outcome_ref, True))
                self._finish(job, "cancelled")
            elif job.started is not None and now - job.started > self.job_seconds + self.grace_seconds:
                cancels.append((job.outcome_ref, True))
                self._finish(job, "timed_out", i18n.t_for(job.language, "jobs.time_limit_killed",
                                                          seconds=self.job_seconds))
        return cancels

    def _take_slots(self) -> list[_Job]:
        """Queued jobs, oldest first, for the free slots: ZOO_MAX_JOBS jobs on the cluster at once."""
        taken = sum(job.outcome_ref is not None for job in self._jobs.values())
        dispatch = []
        while self._queue and taken + len(dispatch) < self.max_jobs:
            dispatch.append(self._queue.popleft())
        return dispatch

    def _dispatch(self, job: _Job) -> None:
        """Submit a job's task; it stays queued until the task has started on a node."""
        with self._lock:
            if job.state in FINISHED:  # cancelled since it was taken off the queue
                return
            payload = job.payload
        options = dict(num_cpus=self.cpus_per_job, num_gpus=self.gpus_per_job if job.wants_gpu else 0,
                       name=f"zoo {job.function}")
        outcome_ref, result_ref = _RUN_JOB.options(**options).remote(
            self._mailbox, job.id, payload, self.job_seconds, self.cpus_per_job)
        with self._lock:
            job.outcome_ref, job.result_ref, job.payload = outcome_ref, result_ref, b""
            if job.state in FINISHED:  # cancelled while it was being submitted
                self._cancels.append(outcome_ref)

    def _keep_pace(self, job: _Job) -> None:
        pace = job.meter.pace(job.ended)
        if pace is not None:
            self._paces.pop(job.function, None)
            self._paces[job.function] = pace
            while len(self._paces) > 64:
                del self._paces[next(iter(self._paces))]

    def _worker_of(self, job_id: str) -> dict | None:
        """Where the job's task ran ({"node", "pid"}), for tests."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.worker
