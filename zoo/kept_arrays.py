"""Arrays computed from a model's weights and a dataset, kept on disk between processes: a restarted server, a
second test worker or the next `zoo.evaluate` loads them in milliseconds instead of embedding 10,000 images again
(10-30 s on a CPU)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import numpy as np

from zoo import settings


def kept(kind: str, sources: list[str], compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """`compute()`'s arrays, read back when the same `sources` (the weights' and the data's sha256, and whatever
    else changes the numbers) kept them before; a missing or broken file is computed again."""
    key = hashlib.sha256("\n".join(sources).encode()).hexdigest()[:16]
    path = settings.cache_dir("computed") / f"{kind}-{key}.npz"
    try:
        with np.load(path) as arrays:
            return dict(arrays)
    except (OSError, ValueError, EOFError):
        pass
    arrays = compute()
    _write_atomically(path, arrays)
    return arrays


def _write_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a file of this process's own and rename it: a reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.npz")
    np.savez(partial, **arrays)
    os.replace(partial, path)
