"""Shared fixtures: a throwaway checkpoint directory with a tiny CNN in it; a Ray head for the session. And how
the suite is shared out between pytest-xdist's workers (pytest.ini runs `-n auto --dist loadgroup`)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):  # before torch reads it: the workers share the cores between them
    _threads = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ.setdefault("OMP_NUM_THREADS", str(_threads))

import pytest
import torch

from zoo import checkpoints


MOST_WORKERS = 4
"""more would each hold their own copies of the models and of the browser tests' server for little gain"""


def pytest_xdist_auto_num_workers(config) -> int:
    """One worker a core, up to MOST_WORKERS: on CI's 2 cores the suite takes about half the time of one process."""
    return max(1, min(os.cpu_count() or 1, MOST_WORKERS))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep what shares a costly session resource on one worker (the browser tests share a server and a browser,
    the Ray tests a Ray head), and start the slow tests first, so that none of them is left running alone at the
    end while the other workers idle."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        elif {"ray_head", "ray_installed"} & set(item.fixturenames):
            item.add_marker(pytest.mark.xdist_group("ray"))
    items.sort(key=_expected_seconds, reverse=True)  # a stable sort: the rest keep their order


def _expected_seconds(item: pytest.Item) -> float:
    slow = item.get_closest_marker("slow")
    return 0.0 if slow is None else slow.kwargs.get("seconds", 30.0)


@pytest.fixture
def checkpoint_dir(tmp_path, monkeypatch):
    """ZOO_CHECKPOINT_DIR pointed at an empty temporary directory."""
    monkeypatch.setenv("ZOO_CHECKPOINT_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def tiny_cnn_checkpoint(checkpoint_dir):
    """An untrained cnn-fashion written with a card, as `zoo.train` would."""
    torch.manual_seed(0)
    model = checkpoints.recipe("cnn-fashion").build()
    card = checkpoints.save("cnn-fashion", model.eval(), {
        "title": "CNN", "dataset": "fashion-mnist", "config": checkpoints.recipe("cnn-fashion").config_dict(),
        "steps": 0, "device": "CPU", "wall_time_s": 0.0, "metrics": {"accuracy": 0.1, "loss": 2.3, "n": 10}})
    return model, card


@pytest.fixture(scope="session")
def ray_installed() -> None:
    """For the Ray backend's tests: fails in CI without ray (CI installs it), skips elsewhere."""
    if importlib.util.find_spec("ray") is None:
        if os.environ.get("CI"):
            pytest.fail("ray is not installed, though requirements.txt pins it: the Ray backend's tests cannot run")
        pytest.skip("ray is not installed (pip install -r requirements.txt)")


@pytest.fixture(scope="session")
def ray_head(ray_installed):
    """A Ray head on the loopback for the whole session (tests/ray_head.py), this process connected to it and one
    worker warm, its client settings in the environment; stopped at the end."""
    from tests.ray_head import CLIENT_ENV, start_head
    temp_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    with pytest.MonkeyPatch.context() as env:
        for name, value in CLIENT_ENV.items():
            env.setenv(name, value)
        head = start_head(temp_dir)
        try:
            _connect_and_warm(head.address)
            yield head
        finally:
            import ray
            if ray.is_initialized():
                ray.shutdown()
            head.stop()
            shutil.rmtree(temp_dir, ignore_errors=True)


def _connect_and_warm(address: str, tries: int = 3) -> None:
    """Connect this process to the head and run one job, so that no test pays for the connection and the first
    worker (5-30 s on these busy cores); a connection that times out (Ray Client gives up after about 30 s, which a
    busy CI machine has reached) is tried again with a new runner."""
    from tests.zoo.jobs_fixtures import count_steps
    from zoo.jobs.ray_runner import RayJobRunner
    for attempt in range(1, tries + 1):
        runner = RayJobRunner(address=address, preload=())
        try:
            job = runner.submit("warm-up", count_steps, n=1)
            deadline = time.monotonic() + 120
            while not runner.status(job).finished and time.monotonic() < deadline:
                time.sleep(0.1)
            status = runner.status(job)
        finally:
            runner.shutdown()
        if status.state == "done":
            return
        assert attempt < tries and status.state == "failed", status
