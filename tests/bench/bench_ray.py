"""Benchmark of the Ray job backend on this machine (prints figures; not a test).

    python tests/bench/bench_ray.py            # starts a Ray head on the loopback (2 CPUs) and stops it after
    RAY_ADDRESS=ray://HOST:10001 python tests/bench/bench_ray.py   # a running cluster instead

1. The server's memory (RSS) before Ray, with `ray` imported, with the Ray Client connected and the runner's
   mailbox up, and after a fine-tune ran through it.
2. Submit to first event: a one-step job through a warm local worker and through a warm Ray worker (median of 5),
   and the CNN page's fine-tune (its first event comes after loading the model and measuring it).
3. The CNN page's fine-tune in steps per second through the Ray runner, the local runner and a bare loop on the
   same model, data and batch size (target: Ray at least 0.8x the local runner), in rounds that alternate the
   order, since other work on a shared machine comes and goes.
Run it with OMP_NUM_THREADS=1 so that the bare loop, the local worker and the Ray worker (1 CPU a job) all train
on one thread.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def rss_mb() -> float:
    """This process's resident memory now, MB."""
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def first_event_s(runner, job, **kwargs) -> float:
    """Seconds from submit to the job's first event as the page would see it, then wait for the job to end."""
    start = time.perf_counter()
    job_id = runner.submit("bench", job, **kwargs)
    while runner.status(job_id).n_events == 0:
        assert not runner.status(job_id).finished, runner.status(job_id)
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    while not runner.status(job_id).finished:
        time.sleep(0.02)
    assert runner.status(job_id).state == "done", runner.status(job_id)
    runner.release(job_id)
    return seconds


def bare_steps_per_s(steps: int) -> float:
    """The CNN page's fine-tuning steps (model, data, batch, augmentation, batch-norm statistics kept) in a bare loop,
    as bench_cnn.py times them."""
    import torch

    from bench_cnn import BATCH, LR, N_TRAIN, NAME
    from timing import loop_steps_per_s
    from zoo import checkpoints
    from zoo.data import fashion_mnist
    from zoo.training.loop import make_optimizer
    torch.manual_seed(0)
    model, _ = checkpoints.load(NAME, "cpu")
    train, _ = fashion_mnist.subset(N_TRAIN)
    optimizer, _ = make_optimizer(model, LR)
    return loop_steps_per_s(model, fashion_mnist.batches(train, BATCH, 0), optimizer, steps,
                            transform=fashion_mnist.augment, freeze_norm=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps timed in each run")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of bare, local, ray (alternating order)")
    args = parser.parse_args()
    memory = {"before ray": rss_mb()}
    import ray  # noqa: F401  (measured: what importing it costs the server)
    memory["ray imported"] = rss_mb()
    import torch

    from bench_cnn import BATCH, LR, N_TRAIN, NAME
    from tests.ray_head import CLIENT_ENV, start_head
    from tests.zoo.jobs_fixtures import count_steps
    from timing import job_steps_per_s
    from zoo import jobs
    from zoo.jobs.ray_runner import RayJobRunner
    from zoo.training.image_classifier import finetune_classifier
    memory["torch and the zoo imported"] = rss_mb()

    head = None
    address = os.environ.get("RAY_ADDRESS")
    if not address:
        os.environ.update(CLIENT_ENV)
        began = time.perf_counter()
        temp_dir = Path(tempfile.mkdtemp(prefix="raybench", dir="/tmp"))  # short: Ray's socket paths
        head = start_head(temp_dir)
        address = head.address
        print(f"ray head on the loopback up in {time.perf_counter() - began:.1f} s")
    try:
        began = time.perf_counter()
        ray_runner = RayJobRunner(address=address, max_jobs=1)
        cold = first_event_s(ray_runner, count_steps, n=1)
        print(f"ray: connect, first job (cold worker, imports torch) to its first event {cold:.2f} s; "
              f"runner made {time.perf_counter() - began:.1f} s ago")
        memory["ray client connected, mailbox up"] = rss_mb()
        local_runner = jobs.JobRunner(max_jobs=1)
        first_event_s(local_runner, count_steps, n=1)  # the local worker's start

        tiny = {name: statistics.median(first_event_s(runner, count_steps, n=1) for _ in range(5))
                for name, runner in (("local", local_runner), ("ray", ray_runner))}
        print(f"submit to first event, a one-step job on a warm worker (median of 5): local {1000 * tiny['local']:.0f} "
              f"ms, ray {1000 * tiny['ray']:.0f} ms")
        cnn = {name: first_event_s(runner, finetune_classifier, name=NAME, lr=LR, steps=20, n_train=N_TRAIN)
               for name, runner in (("local", local_runner), ("ray", ray_runner))}
        print(f"submit to first event, the CNN page's fine-tune (loads the model, measures it first): "
              f"local {cnn['local']:.2f} s, ray {cnn['ray']:.2f} s")

        memory["after fine-tunes through ray"] = rss_mb()
        job = dict(name=NAME, lr=LR, n_train=N_TRAIN, batch_size=BATCH, eval_every=10 ** 9)

        def through(runner) -> float:  # the pace the runner measured from the job's own clock (Ray's events come in
            job_steps_per_s(finetune_classifier, args.steps, runner=runner, **job)  # batches, 10 a second)
            return runner.pace(finetune_classifier).steps_per_s

        measure = {"bare": lambda: bare_steps_per_s(args.steps), "local": lambda: through(local_runner),
                   "ray": lambda: through(ray_runner)}
        rates = {name: [] for name in measure}
        for round_ in range(args.rounds):
            for name in (measure if round_ % 2 == 0 else reversed(measure)):
                rates[name].append(measure[name]())
            print(f"CNN fine-tune round {round_ + 1}, {args.steps} steps of batch {BATCH} on "
                  f"{torch.get_num_threads()} thread(s): " + ", ".join(f"{name} {rates[name][-1]:.2f} steps/s"
                                                                        for name in measure))
        bare, local, through_ray = (statistics.median(rates[name]) for name in measure)
        print(f"CNN fine-tune, median of {args.rounds} rounds: bare loop {bare:.2f} steps/s, local runner {local:.2f} "
              f"({local / bare:.2f}x), ray runner {through_ray:.2f} ({through_ray / bare:.2f}x the bare loop, "
              f"{through_ray / local:.2f}x the local runner; target >= 0.8x)")
        local_runner.shutdown()
        ray_runner.shutdown()
    finally:
        if head is not None:
            ray.shutdown()
            head.stop()
            shutil.rmtree(temp_dir, ignore_errors=True)
    base = memory["before ray"]
    print("server RSS: " + ", ".join(f"{what} {mb:.0f} MB (+{mb - base:.0f})" for what, mb in memory.items()))


if __name__ == "__main__":
    main()
