"""The messages between the runner and its workers, one pickled tuple each way through a pipe. Both sides
import this module; the runner never imports `zoo.jobs.worker`, which runs as `__main__` in the worker."""
from __future__ import annotations

import pickle
from multiprocessing.connection import Connection


def send(conn: Connection, message: tuple) -> None:
    """Send with plain pickle: multiprocessing's pickler would move tensors through shared
    memory handles, which only work between processes that multiprocessing started."""
    conn.send_bytes(pickle.dumps(message))


class MessageTooLong(Exception):
    """A message longer than the receiver takes; the pipe cannot be read any further."""


def receive(conn: Connection, max_bytes: int) -> tuple[tuple, int]:
    """The next message and its size in bytes, read only if it is at most `max_bytes` long (MessageTooLong
    if not); EOFError or OSError when the other side has gone."""
    try:
        data = conn.recv_bytes(max_bytes)
    except OSError:
        if conn.readable:  # multiprocessing marks a duplex pipe unreadable after a message that was too long
            raise
        raise MessageTooLong(f"a message of more than {max_bytes / 2 ** 20:g} MB") from None
    return pickle.loads(data), len(data)
