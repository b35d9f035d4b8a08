"""Benchmark: what the job runner keeps in the server for a job (prints figures; not a test).

    python tests/bench/bench_job_memory.py

Runs, through a JobRunner in this process (as in the server), a job of 300 events of 1 MB each and a
30 s run of the GAN toy game (a live board: a frame with its weights four times a second), and prints for
each the server's resident memory growth once it has finished (its events and result still held for its
page), the events and bytes the runner kept, and the growth after the page has taken them (`release`).
"""
from __future__ import annotations

import gc
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from models.gan import toy_game  # noqa: E402
from tests.zoo.jobs_fixtures import flood  # noqa: E402
from zoo.jobs import JobRunner  # noqa: E402


def rss_mb() -> float:
    gc.collect()
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def measure(runner: JobRunner, label: str, fn, **kwargs) -> None:
    before = rss_mb()
    job = runner.submit(label, fn, **kwargs)
    while not runner.status(job).finished:
        time.sleep(0.2)
    status, events = runner.status(job), runner.events(job)
    kept, kept_mb = len(events), sum(len(pickle.dumps(event)) for event in events) / 2 ** 20
    del events
    held = rss_mb() - before
    runner.release(job)
    print(f"{label}: {status.state} in {status.elapsed_s:.1f} s; {status.n_events} events sent, {kept} kept "
          f"({kept_mb:.1f} MB), server RSS +{held:.0f} MB until the page takes them, "
          f"+{rss_mb() - before:.0f} MB after")


def main() -> None:
    runner = JobRunner(max_jobs=1, job_seconds=120)
    try:
        measure(runner, "300 x 1 MB events", flood, n=300, kb=1024)
        target = toy_game.make_target(next(iter(toy_game.TARGETS)))
        measure(runner, "GAN toy game, 30 s", toy_game.train_run, target=target, settings=toy_game.GANSettings(),
                seconds=30.0)
    finally:
        runner.shutdown()


if __name__ == "__main__":
    main()
