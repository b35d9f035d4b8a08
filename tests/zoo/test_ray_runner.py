"""What only the Ray backend has: its settings, a head that listens on the loopback only, a job the cluster cannot
place yet shown with its place in the queue, the GPU asked for only by jobs that pick a torch device, and a head
stopped under a running job (the job fails with a sentence, the server goes on). The interface both backends
share is tests/zoo/test_runner_contract.py."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from tests.zoo.jobs_fixtures import count_steps, forever
from zoo import settings
from zoo.jobs import runner as job_runner
from zoo.training.image_classifier import finetune_classifier


@pytest.fixture
def ray_runner(ray_head):
    from zoo.jobs.ray_runner import RayJobRunner
    runners = []

    def make(**limits):
        runners.append(RayJobRunner(address=ray_head.address, **{"job_seconds": 30, "preload": (), **limits}))
        return runners[-1]

    yield make
    for runner in runners:
        runner.shutdown()


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_the_backend_settings_say_what_they_take(monkeypatch):
    monkeypatch.delenv("ZOO_JOB_BACKEND", raising=False)
    assert settings.job_backend() == "local"
    monkeypatch.setenv("ZOO_JOB_BACKEND", "slurm")
    with pytest.raises(settings.SettingError, match="ZOO_JOB_BACKEND must be local or ray, got 'slurm'"):
        settings.job_backend()
    monkeypatch.setenv("ZOO_RAY_GPUS_PER_JOB", "0.25")
    assert settings.ray_gpus_per_job() == 0.25
    monkeypatch.setenv("ZOO_RAY_GPUS_PER_JOB", "0")
    assert settings.ray_gpus_per_job() == 0
    monkeypatch.setenv("ZOO_RAY_GPUS_PER_JOB", "-1")
    with pytest.raises(settings.SettingError, match="at least 0, got '-1'"):
        settings.ray_gpus_per_job()


def test_the_ray_backend_without_a_client_address_says_so_and_starts_nothing(monkeypatch):
    monkeypatch.setenv("ZOO_JOB_BACKEND", "ray")
    monkeypatch.setattr(job_runner, "_runner", None)
    for address in ("", "127.0.0.1:6379"):
        monkeypatch.setenv("RAY_ADDRESS", address)
        with pytest.raises(settings.SettingError) as refused:
            job_runner.get_runner()
        assert str(refused.value) == ("ZOO_JOB_BACKEND=ray needs RAY_ADDRESS, the Ray Client address of the cluster's "
                                      f"head (ray://HOST:10001), got {address!r}; the zoo never starts Ray inside its "
                                      "server.")
        assert job_runner._runner is None


def test_only_jobs_that_pick_a_torch_device_ask_for_a_gpu(ray_installed):
    from models.dqn.recipe import finetune_dqn
    from models.mlp.playground import train_run
    from zoo.jobs.ray_runner import uses_gpu
    assert uses_gpu(finetune_classifier)
    assert not any(uses_gpu(fn) for fn in (finetune_dqn, train_run, count_steps))


def test_the_head_listens_on_the_loopback_only(ray_head):
    listening = ray_head.listening()
    assert len(listening) >= 5  # GCS, raylet, client server, agents
    assert all(address.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:", "[::1]:")) for address in listening), listening


def test_a_job_the_cluster_cannot_place_yet_waits_with_its_place(ray_runner):
    # The head has 2 CPUs: the third job waits in Ray's queue. Each job may live 120 s, and the two have 90 s to
    # start: at the start of the suite, beside the browser tests' server, 30 s were not enough for both.
    runner = ray_runner(max_jobs=3, job_seconds=120)
    first, second, third = (runner.submit(session, forever) for session in "abc")
    wait_until(lambda: runner.status(first).state == runner.status(second).state == "running", timeout=90)
    time.sleep(1.0)
    status = runner.status(third)
    assert (status.state, status.position, status.elapsed_s) == ("queued", 1, 0.0)
    runner.cancel(first)
    wait_until(lambda: runner.status(third).state == "running")
    job = runner.submit("d", count_steps, n=1)
    assert runner.status(job).position == 1


def test_a_job_runs_in_a_ray_worker_with_its_resources(ray_runner):
    runner = ray_runner()
    job = runner.submit("a", count_steps, n=2)
    wait_until(lambda: runner.status(job).finished)
    worker = runner._worker_of(job)
    assert worker["pid"] != os.getpid() and runner.gpus_per_job == 0 and runner.cpus_per_job == 1


@pytest.mark.slow
def test_a_head_stopped_under_a_running_job_fails_it_with_a_sentence_and_the_server_goes_on(ray_installed):
    """Its own head, in a process of its own."""
    temp_dir = tempfile.mkdtemp(prefix="rayhs", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "RAY_CLIENT_RECONNECT_GRACE_PERIOD": "5", "OMP_NUM_THREADS": "1"}
    try:
        run = subprocess.run([sys.executable, "-m", "tests.zoo.ray_head_stop", temp_dir], capture_output=True,
                             text=True, cwd=settings.REPOSITORY, env=env, timeout=300)
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert (report["state"], report["error"]) == ("failed", report["expected_error"])
    assert report["failed_after_s"] < 30  # the grace of 5 s, and the head's own stop
