"""The cluster side of `zoo.jobs.ray_runner`: a job is a Ray task that runs the recipe's generator, posting each
event to the runner's mailbox actor, and whose two return values are how it ended and its result (the fine-tuned
weights), which wait in the object store until the page takes them. Ray Client has no streaming generators, so
the events travel through the mailbox; the task waits for its last post before it returns, so the runner, which
reads the mailbox after it saw the task end, has every event. As in a local worker, the job runs under
`zoo.jobs.deadline.limit` and stops after the step that passes its time limit; `ray.cancel` stops it mid-step
(Ray raises KeyboardInterrupt in the task), and closing the generator runs the recipe's `finally` blocks."""
from __future__ import annotations

import importlib
import os
import pickle
import socket
import sys
import time
import traceback
from typing import Any

import ray

from zoo import i18n
from zoo.jobs import deadline


class Mailbox:
    """Holds the messages of one runner's jobs (pickled, as a worker's pipe carries them) until the runner takes
    them, every tick while jobs are running."""

    def __init__(self) -> None:
        self._messages: dict[str, list[bytes]] = {}

    def put(self, job_id: str, message: bytes) -> None:
        self._messages.setdefault(job_id, []).append(message)

    def take(self) -> dict[str, list[bytes]]:
        messages, self._messages = self._messages, {}
        return messages


def run_job(mailbox: Any, job_id: str, payload: bytes, seconds: float, threads: int) -> tuple[tuple, Any]:
    """Run the pickled `(fn, kwargs, language)` in that language (torch, if it uses it, on `threads` threads), posting ("started", where) and
    then each ("event", event, seconds since the start: timed here, since the runner takes several at once); return
    (how it ended, the result): ("done",) and fn's return value, else ("failed", message, traceback) or
    ("timed_out",), and None."""
    def post(message: tuple) -> Any:
        return mailbox.put.remote(job_id, pickle.dumps(message))

    start = time.monotonic()
    last = post(("started", {"node": socket.gethostname(), "pid": os.getpid()}))
    gen, outcome, result = None, ("timed_out",), None
    try:
        fn, kwargs, language = pickle.loads(payload)
        with deadline.limit(seconds), i18n.speaking(language):
            if "torch" in sys.modules:
                sys.modules["torch"].set_num_threads(threads)
            gen = fn(**kwargs)
            while not deadline.overrun():
                try:
                    event = next(gen)
                except StopIteration as stop:
                    outcome, result = ("done",), stop.value
                    break
                last = post(("event", event, time.monotonic() - start))
    except Exception as exc:
        outcome = ("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    finally:
        if gen is not None:
            gen.close()
    ray.get(last)
    return outcome, result


def warm_up(modules: tuple[str, ...]) -> None:
    """Import what jobs need, so that a worker Ray keeps for the next job has done it already."""
    for name in modules:
        importlib.import_module(name)
