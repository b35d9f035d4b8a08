"""Benchmark: what the job workers cost when nobody trains, and what a worker started on demand costs the first
job (prints figures; not a test). The figures behind the runner's choice of pool (README, "Hosting for a class").

    OMP_NUM_THREADS=1 python tests/bench/bench_worker_pool.py [idle | first-event | fork | all]

idle: the real server after one visitor opened the CNN page and 20 s passed: the server's and each job worker's
  memory (RSS, and PSS / USS from /proc/PID/smaps_rollup: RSS counts the shared libraries once per process).
first-event: through a JobRunner in this process, one worker, torch preloaded: submit-to-start and
  submit-to-first-event of the CNN page's fine-tune (10 steps) on a worker that ran a one-step job before, on
  one that has only imported torch, and on one that the job starts; median of three each.
fork: two fresh-interpreter workers (the runner's) against two children forked from one parent that imported
  torch (a forkserver): the pool's PSS and USS in all, idle and after one of them ran the CNN fine-tune.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.zoo.jobs_fixtures import count_steps  # noqa: E402
from zoo.jobs import JobRunner  # noqa: E402
from zoo.training.image_classifier import finetune_classifier  # noqa: E402

CNN_JOB = dict(name="cnn-fashion", lr=3e-5, steps=10, n_train=2000, n_test=2000)
"""the CNN page's default fine-tune, cut to 10 steps: the start-up, not the training, is measured"""
SETTLE_S = 20


def smaps_mb(pid: int) -> dict[str, float]:
    """A process's resident (RSS), proportional (PSS: shared pages divided among their users) and unique (USS)
    memory, MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return {"rss": fields["Rss"], "pss": fields["Pss"], "uss": fields["Private_Clean"] + fields["Private_Dirty"]}


def describe(label: str, pids: list[int]) -> dict[str, float]:
    """Print each process's memory and the sum; return the sum."""
    sizes = [smaps_mb(pid) for pid in pids]
    total = {key: sum(size[key] for size in sizes) for key in ("rss", "pss", "uss")}
    each = ", ".join(f"{s['rss']:.0f}/{s['pss']:.0f}/{s['uss']:.0f}" for s in sizes) or "none"
    print(f"  {label}: {len(pids)} process(es), RSS/PSS/USS MB each: {each}; "
          f"in all {total['rss']:.0f}/{total['pss']:.0f}/{total['uss']:.0f}")
    return total


def idle_server() -> None:
    """The server and its workers with one visitor on the CNN page and nobody training."""
    from playwright.sync_api import sync_playwright

    from tests.bench.bench_session_memory import open_page, processes
    from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_server
    print("idle: the server after one visitor opened the CNN page, nobody training")
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "streamlit.log") as url, \
            sync_playwright() as playwright:
        port = int(url.rsplit(":", 1)[1])
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        open_page(browser.new_page(), f"{url}/cnn")
        time.sleep(SETTLE_S)  # warm workers import torch meanwhile
        server, workers = processes(port)
        total = describe("server", [server])
        pool = describe("job workers", workers)
        print(f"  server and workers: {total['rss'] + pool['rss']:.0f} MB RSS, {total['pss'] + pool['pss']:.0f} MB PSS")
        browser.close()


def first_event(mode: str) -> tuple[float, float] | None:
    """Seconds from submitting the CNN fine-tune to its worker starting it and to its first event, on a worker
    that ran a one-step job before ("reused"), one that has only imported torch ("preloaded"; None if the runner
    starts none before a job) or one the job starts ("on demand")."""
    runner = JobRunner(max_jobs=1, job_seconds=300, preload=("torch",))
    try:
        if mode == "reused":
            wait_done(runner, runner.submit("warm-up", count_steps, n=1))
        elif mode == "preloaded":
            deadline = time.monotonic() + SETTLE_S
            while not (runner._workers and all(worker.ready for worker in runner._workers)):
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.05)
        submitted = time.monotonic()
        job = runner.submit("bench", finetune_classifier, **CNN_JOB)
        while runner.status(job).elapsed_s == 0:
            time.sleep(0.01)
        started = time.monotonic() - runner.status(job).elapsed_s - submitted
        while runner.status(job).n_events == 0 and not runner.status(job).finished:
            time.sleep(0.01)
        first = time.monotonic() - submitted
        wait_done(runner, job)
        return started, first
    finally:
        runner.shutdown()


def wait_done(runner: JobRunner, job: str) -> None:
    while not runner.status(job).finished:
        time.sleep(0.05)
    assert runner.status(job).state == "done", runner.status(job)


def first_events() -> None:
    print(f"first-event: the CNN fine-tune ({CNN_JOB['steps']} steps), median of three")
    for mode in ("reused", "preloaded", "on demand"):
        runs = [first_event(mode) for _ in range(3)]
        if None in runs:
            print(f"  {mode}: no worker before the first job")
            continue
        started, first = (statistics.median(run[i] for run in runs) for i in (0, 1))
        print(f"  {mode}: started after {started:.2f} s, first event after {first:.2f} s "
              f"(runs: {', '.join(f'{s:.2f}/{f:.2f}' for s, f in runs)})")


def fresh_pool() -> None:
    """Two workers as the runner starts them: idle, then after one ran the CNN fine-tune."""
    runner = JobRunner(max_jobs=2, job_seconds=300, preload=("torch",))
    try:
        for job in [runner.submit(session, count_steps, n=1) for session in ("a", "b")]:
            wait_done(runner, job)
        time.sleep(1)
        describe("fresh interpreters, idle", runner._worker_pids())
        wait_done(runner, runner.submit("a", finetune_classifier, **CNN_JOB))
        describe("fresh interpreters, one has run the fine-tune", runner._worker_pids())
    finally:
        runner.shutdown()


def forkserver() -> None:
    """Run as a subprocess: import torch, fork two children, measure them and this parent idle and after one
    child ran the CNN fine-tune; print one JSON line."""
    import torch  # noqa: F401  what the forkserver preloads, as the workers do
    children = []
    for _ in range(2):
        command_r, command_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(command_w), os.close(reply_r)
            while os.read(command_r, 1) == b"r":
                for _ in finetune_classifier(**CNN_JOB):
                    pass
                os.write(reply_w, b"d")
            os._exit(0)
        os.close(command_r), os.close(reply_w)
        children.append((pid, command_w, reply_r))
    time.sleep(1)
    pids = [os.getpid(), *(pid for pid, _, _ in children)]
    idle = [smaps_mb(pid) for pid in pids]
    _, command_w, reply_r = children[0]
    os.write(command_w, b"r")
    os.read(reply_r, 1)
    after = [smaps_mb(pid) for pid in pids]
    for _, command_w, _ in children:
        os.write(command_w, b"q")
    for pid, _, _ in children:
        os.waitpid(pid, 0)
    print(json.dumps({"idle": idle, "after": after}))


def forked_pool() -> None:
    run = subprocess.run([sys.executable, __file__, "forkserver"], capture_output=True, text=True, check=True)
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    for label, sizes in (("idle", measured["idle"]), ("one child has run the fine-tune", measured["after"])):
        parent, *children = sizes
        each = ", ".join(f"{s['rss']:.0f}/{s['pss']:.0f}/{s['uss']:.0f}" for s in children)
        total = {key: sum(size[key] for size in sizes) for key in ("rss", "pss", "uss")}
        print(f"  forked from a torch parent, {label}: parent {parent['rss']:.0f}/{parent['pss']:.0f}/"
              f"{parent['uss']:.0f}, children {each}; parent and children in all "
              f"{total['rss']:.0f}/{total['pss']:.0f}/{total['uss']:.0f} MB RSS/PSS/USS")


def main(part: str) -> None:
    if part == "forkserver":
        return forkserver()
    if part in ("idle", "all"):
        idle_server()
    if part in ("first-event", "all"):
        first_events()
    if part in ("fork", "all"):
        print("fork: two workers' memory (RSS/PSS/USS MB)")
        fresh_pool()
        forked_pool()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "all")
