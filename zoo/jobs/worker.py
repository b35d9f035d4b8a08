"""The worker side of `zoo.jobs`: a fresh interpreter (`python -m zoo.jobs.worker FD THREADS
[MODULE...]`) that imports what jobs need once, then runs jobs one at a time, sending their
events back through its pipe and checking for a cancel or its time limit after every step. Each job
runs under `zoo.jobs.deadline.limit`, so that its training loops stop early when it nears the limit."""
from __future__ import annotations

import importlib
import pickle
import signal
import sys
import traceback
from contextlib import suppress
from multiprocessing.connection import Connection

from zoo.jobs import deadline


def send(conn: Connection, message: tuple) -> None:
    """Send with plain pickle: multiprocessing's pickler would move tensors through shared
    memory handles, which only work between processes that multiprocessing started."""
    conn.send_bytes(pickle.dumps(message))


def _worker_main(fd: int, threads: int, preload: list[str]) -> None:
    """Import what every job needs once, then run jobs one at a time until the server leaves."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is for the server
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
            if kind == "run":
                _run_job(conn, *args)
            # a "cancel" that arrives after its job ended needs nothing


def _run_job(conn: Connection, job_id: str, payload: bytes, sys_path: list[str],
             seconds: float) -> None:
    """Run one job, sending its events and then exactly one message saying how it ended."""
    sys.path[:] = list(dict.fromkeys([*sys_path, *sys.path]))
    send(conn, ("started",))
    gen = None
    try:
        with deadline.limit(seconds):
            fn, kwargs = pickle.loads(payload)
            gen = fn(**kwargs)
            while True:
                try:
                    event = next(gen)
                except StopIteration as stop:
                    send(conn, ("done", stop.value))
                    return
                send(conn, ("event", event))
                if reason := _stop_reason(conn, job_id):
                    gen.close()  # runs the recipe's finally blocks before the server hears it stopped
                    send(conn, (reason,))
                    return
    except Exception as exc:
        send(conn, ("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        if gen is not None:
            gen.close()


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
    _worker_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
