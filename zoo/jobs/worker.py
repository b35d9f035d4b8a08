"""The worker side of `zoo.jobs`: a fresh interpreter (`python -m zoo.jobs.worker FD THREADS MEMORY_MB
[MODULE...]`) that limits its own memory to MEMORY_MB and offers itself to the kernel's out-of-memory
killer before the server, imports what jobs need once, then runs jobs one at a time, sending their events
back through its pipe and checking for a cancel or its time limit after every step. Each job runs under
`zoo.jobs.deadline.limit`, so that its training loops stop early when it nears the limit. A job that runs
out of its memory fails with a sentence that says so, and the worker exits for a fresh one to take its place."""
from __future__ import annotations

import importlib
import pickle
import resource
import signal
import sys
import traceback
from contextlib import suppress
from multiprocessing.connection import Connection

from zoo import i18n
from zoo.jobs import deadline
from zoo.jobs.messages import send

OOM_SCORE_ADJ = 500
"""added to the worker's out-of-memory score (the server's stays 0), so the kernel stops a worker first"""


def limit_memory(megabytes: float) -> None:
    """Cap this process's data (heap and private mappings, which hold every array and tensor) at `megabytes`,
    so that an allocation beyond it fails in the job instead of exhausting the server; raise the
    out-of-memory score where the system lets us."""
    limit = int(megabytes * 2 ** 20)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    with suppress(OSError):  # e.g. a read-only /proc
        with open("/proc/self/oom_score_adj", "w") as score:
            score.write(str(OOM_SCORE_ADJ))


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is an allocation that failed: Python's and numpy's MemoryError, torch's CPU allocator."""
    return isinstance(exc, MemoryError) or "can't allocate memory" in str(exc)


def _worker_main(fd: int, threads: int, memory_mb: float, preload: list[str]) -> None:
    """Import what every job needs once, then run jobs one at a time until the server leaves or a job
    ran out of memory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is for the server
    limit_memory(memory_mb)
    conn = Connection(fd)
    for name in preload:
        importlib.import_module(name)
    if threads:  # else torch's default
        import torch
        torch.set_num_threads(threads)
    with suppress(EOFError, OSError):  # the server closed the pipe or went away
        send(conn, ("ready",))
        while True:
            kind, *args = conn.recv()
            if kind == "run" and not _run_job(conn, *args, memory_mb=memory_mb):
                return
            # a "cancel" that arrives after its job ended needs nothing


def _run_job(conn: Connection, job_id: str, payload: bytes, sys_path: list[str], seconds: float,
             memory_mb: float) -> bool:
    """Run one job, sending its events and then exactly one message saying how it ended; False if it ran
    out of memory (the worker then makes way for a fresh one)."""
    sys.path[:] = list(dict.fromkeys([*sys_path, *sys.path]))
    send(conn, ("started",))
    gen, exhausted, language = None, False, i18n.DEFAULT
    try:
        fn, kwargs, language = pickle.loads(payload)
        with deadline.limit(seconds), i18n.speaking(language):
            gen = fn(**kwargs)
            while True:
                try:
                    event = next(gen)
                except StopIteration as stop:
                    send(conn, ("done", stop.value))
                    return True
                send(conn, ("event", event))
                if reason := _stop_reason(conn, job_id):
                    gen.close()  # runs the recipe's finally blocks before the server hears it stopped
                    send(conn, (reason,))
                    return True
    except Exception as exc:
        exhausted = out_of_memory(exc)
        if not exhausted:
            send(conn, ("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        if gen is not None:
            gen.close()
    if exhausted:  # said out of the except block: by now the traceback and the failed job's memory are free
        with i18n.speaking(language):
            send(conn, ("failed", i18n.t("jobs.memory_budget", megabytes=memory_mb), "out of memory"))
    return not exhausted


def _stop_reason(conn: Connection, job_id: str) -> str | None:
    """Why the running job must stop after this step: a cancel from the server, or its time limit
    passed before it began to wrap up (one wrapping up is given until the runner's hard limit)."""
    while conn.poll():
        if conn.recv() == ("cancel", job_id):
            return "cancelled"
    if deadline.overrun():
        return "timed_out"
    return None


if __name__ == "__main__":
    _worker_main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:])
