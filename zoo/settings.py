"""Every `ZOO_*` setting the zoo reads (the README's Configuration table), through one parser with
one error style. Values are read on every call, so a server can change them without a code change;
unset or blank means the default."""
from __future__ import annotations

import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


class SettingError(ValueError):
    """A `ZOO_*` variable holds a value the zoo cannot use; the message names it and says what it takes."""


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def number(name: str, default: float) -> float:
    """A positive number from variable `name`, e.g. a size in MB or a time in seconds."""
    raw = _raw(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SettingError(f"{name} must be a positive number, got {raw!r}.")
    return value


def count(name: str, default: int, minimum: int = 1) -> int:
    """A whole number of at least `minimum` from variable `name`, e.g. a number of jobs or nodes."""
    raw = _raw(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise SettingError(f"{name} must be a whole number of at least {minimum}, got {raw!r}.")
    return int(raw)


def device() -> str:
    """ZOO_DEVICE: a torch device name, or "" to pick the best one present."""
    return _raw("ZOO_DEVICE")


def checkpoint_dir() -> Path:
    """ZOO_CHECKPOINT_DIR, else the repository's checkpoints/."""
    return Path(_raw("ZOO_CHECKPOINT_DIR") or REPOSITORY / "checkpoints")


def data_dirs(dataset: str) -> list[Path]:
    """Where a person may have put a dataset: `$ZOO_DATA_DIR/<dataset>`, then `$ZOO_DATA_DIR` itself."""
    root = _raw("ZOO_DATA_DIR")
    return [Path(root) / dataset, Path(root)] if root else []


def cache_dir(dataset: str) -> Path:
    """The per-user cache a dataset is built or downloaded into."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deep-learning-zoo" / dataset


def download_allowed() -> bool:
    """ZOO_DOWNLOAD=1: missing datasets may be downloaded (checked by sha256)."""
    return _raw("ZOO_DOWNLOAD") == "1"


def max_jobs() -> int:
    """ZOO_MAX_JOBS: fine-tuning jobs running at once."""
    return count("ZOO_MAX_JOBS", 2)


def job_seconds() -> float:
    """ZOO_JOB_SECONDS: how long one job may run; near it the job ends early and keeps what it has."""
    return number("ZOO_JOB_SECONDS", 300.0)


def worker_threads() -> int:
    """ZOO_WORKER_THREADS: torch threads per job worker; 0 keeps torch's default (every core)."""
    return count("ZOO_WORKER_THREADS", 0, minimum=0)
