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


def number(name: str, default: float, minimum: float | None = None) -> float:
    """A positive number (at least `minimum`, if given) from variable `name`, e.g. a size in MB or a time in seconds."""
    raw = _raw(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if minimum is not None and not value >= minimum:
        raise SettingError(f"{name} must be a number of at least {minimum:g}, got {raw!r}.")
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


def max_queue() -> int:
    """ZOO_MAX_QUEUE: fine-tuning jobs that may wait for a slot; beyond them the server says it is busy."""
    return count("ZOO_MAX_QUEUE", 10, minimum=0)


def job_seconds() -> float:
    """ZOO_JOB_SECONDS: how long one job may run; near it the job ends early and keeps what it has."""
    return number("ZOO_JOB_SECONDS", 300.0)


JOB_BACKENDS = ("local", "ray")


def job_backend() -> str:
    """ZOO_JOB_BACKEND: where fine-tuning jobs run: "local" (this server's worker processes) or "ray" (a Ray
    cluster at RAY_ADDRESS)."""
    backend = _raw("ZOO_JOB_BACKEND") or "local"
    if backend not in JOB_BACKENDS:
        raise SettingError(f"ZOO_JOB_BACKEND must be local or ray, got {backend!r}.")
    return backend


def ray_address() -> str:
    """RAY_ADDRESS (Ray's own variable): the Ray Client address of the cluster's head, ray://HOST:10001. Required
    with ZOO_JOB_BACKEND=ray: the zoo never starts Ray inside its server."""
    address = _raw("RAY_ADDRESS")
    if not address.startswith("ray://"):
        raise SettingError("ZOO_JOB_BACKEND=ray needs RAY_ADDRESS, the Ray Client address of the cluster's head "
                           f"(ray://HOST:10001), got {address!r}; the zoo never starts Ray inside its server.")
    return address


def ray_gpus_per_job() -> float | None:
    """ZOO_RAY_GPUS_PER_JOB: GPUs each Ray job that can use one asks for (fractions share a GPU, 0 for none);
    None when unset: 1 on a cluster with GPUs."""
    raw = _raw("ZOO_RAY_GPUS_PER_JOB")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise SettingError(f"ZOO_RAY_GPUS_PER_JOB must be a number of at least 0, got {raw!r}.")
    return value


def worker_threads() -> int:
    """ZOO_WORKER_THREADS: torch threads per job worker; 0 keeps torch's default (every core)."""
    return count("ZOO_WORKER_THREADS", 0, minimum=0)


def worker_idle_seconds() -> int:
    """ZOO_WORKER_IDLE_S: how long a job worker with no job stays, ready for the next, before it exits; 0 ends
    each worker after its job."""
    return count("ZOO_WORKER_IDLE_S", 300, minimum=0)


MIN_WORKER_MEMORY_MB = 1024
"""the least ZOO_WORKER_MEMORY_MB: a worker's data is about 180 MB with torch imported, and up to 650 MB
during a page's default fine-tune (tests/bench/bench_session_memory.py)"""


def worker_memory_mb() -> float:
    """ZOO_WORKER_MEMORY_MB: the memory one job worker may use, torch included; by default half of the
    server's memory shared among its ZOO_MAX_JOBS workers (at least MIN_WORKER_MEMORY_MB)."""
    share = max(MIN_WORKER_MEMORY_MB, round(memory_mb() / 2 / max_jobs()))
    return number("ZOO_WORKER_MEMORY_MB", share, minimum=MIN_WORKER_MEMORY_MB)


def memory_mb() -> float:
    """The memory this server may use, MB: the machine's, or its container's limit (cgroup) when lower."""
    limits = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")]
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):  # cgroup v2, v1
        try:
            limits.append(int(Path(path).read_text()))
        except (OSError, ValueError):  # absent, or "max"
            continue
    return min(limits) / 2 ** 20
