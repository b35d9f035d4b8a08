"""The job runner: completion, cancel, queue, limits, failures, dead and hung workers, warmth, a job that
ends early near its limit and keeps what it has, and the pace of finished runs behind the estimate.

Runners here are small (one or two workers, short limits, no torch preload) and every one
is shut down by the `make_runner` fixture.
"""
from __future__ import annotations

import os
import re
import signal
import time
from typing import Callable

import numpy as np
import pytest

from tests.zoo.jobs_fixtures import count_steps, fail_after, forever, hang, train_with_deadline
from zoo.jobs import JobLimitError, JobRunner, JobStatus


@pytest.fixture
def make_runner():
    """Build runners that skip the torch preload, and shut every one down afterwards."""
    runners: list[JobRunner] = []

    def make(**kwargs) -> JobRunner:
        runner = JobRunner(**{"max_jobs": 1, "job_seconds": 30, "preload": (), **kwargs})
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.shutdown()


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def wait_finished(runner: JobRunner, job_id: str, timeout: float = 15.0) -> JobStatus:
    wait_until(lambda: runner.status(job_id).finished, timeout)
    return runner.status(job_id)


def test_job_runs_to_completion(make_runner):
    runner = make_runner()
    job = runner.submit("a", count_steps, n=5, result=b"weights-a")
    status = wait_finished(runner, job)
    assert (status.state, status.error, status.position, status.n_events) == ("done", None, None, 5)
    assert status.elapsed_s > 0
    events = runner.events(job)
    assert [event["step"] for event in events] == [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(events[2]["image"], np.full((2, 2), 3))
    assert runner.events(job, since=3) == events[3:]
    assert runner.result(job) == b"weights-a"


def test_cancel_running_job_stops_within_one_step(make_runner, tmp_path):
    runner = make_runner()
    marker = tmp_path / "closed"
    job = runner.submit("a", forever, sleep=0.05, closed_marker=str(marker))
    wait_until(lambda: runner.status(job).n_events >= 3)
    runner.cancel(job)
    seen = runner.status(job).n_events
    status = wait_finished(runner, job, timeout=5)
    assert status.state == "cancelled" and status.error is None
    assert status.n_events - seen <= 2
    assert marker.read_text() == "closed"  # the generator was closed, so its finally ran
    assert runner.result(job) is None


def test_cancel_queued_job(make_runner):
    runner = make_runner(max_jobs=1)
    first = runner.submit("a", forever)
    wait_until(lambda: runner.status(first).state == "running")
    second = runner.submit("b", count_steps, n=2)
    assert runner.status(second).position == 1
    runner.cancel(second)
    status = runner.status(second)
    assert (status.state, status.position, status.n_events) == ("cancelled", None, 0)
    assert runner.status(first).state == "running"


def test_queue_is_fifo_beyond_max_jobs(make_runner):
    runner = make_runner(max_jobs=1)
    first = runner.submit("a", count_steps, n=10, sleep=0.05)
    wait_until(lambda: runner.status(first).state == "running")
    second = runner.submit("b", count_steps, n=2, result=b"b")
    third = runner.submit("c", count_steps, n=2, result=b"c")
    assert (runner.status(second).state, runner.status(second).position) == ("queued", 1)
    assert runner.status(third).position == 2
    assert runner.status(second).elapsed_s == 0
    assert wait_finished(runner, first).state == "done"
    assert wait_finished(runner, second).state == "done"
    assert wait_finished(runner, third).state == "done"
    assert (runner.result(second), runner.result(third)) == (b"b", b"c")


def test_one_job_per_session(make_runner):
    runner = make_runner(max_jobs=2)
    job = runner.submit("a", forever)
    with pytest.raises(JobLimitError, match="already have a training job"):
        runner.submit("a", count_steps, n=1)
    other = runner.submit("b", count_steps, n=1)
    assert wait_finished(runner, other).state == "done"
    runner.cancel(job)
    wait_finished(runner, job)
    again = runner.submit("a", count_steps, n=1)  # allowed once the first has ended
    assert wait_finished(runner, again).state == "done"


def test_time_limit(make_runner):
    runner = make_runner(job_seconds=1)
    start = time.monotonic()
    job = runner.submit("a", forever, sleep=0.05)
    status = wait_finished(runner, job)
    assert status.state == "timed_out"
    assert "time limit of 1 s" in status.error
    assert 1.0 <= time.monotonic() - start < 15.0  # loose: CI machines may be busy
    assert 0 < status.elapsed_s < 15.0


def test_a_job_near_its_limit_ends_early_with_its_result_and_a_note(make_runner):
    runner = make_runner(job_seconds=2)
    job = runner.submit("a", train_with_deadline, n=10_000, sleep=0.01, finish_s=0.2)
    status = wait_finished(runner, job)
    assert (status.state, status.error) == ("done", None)
    assert runner.result(job) == b"weights"
    events = runner.events(job)
    [stopped] = [e for e in events if "stopped_early" in e]
    assert re.fullmatch(r"Stopped after [\d,]+ of 10,000 steps to finish within the server's time limit of 2 s\.",
                        stopped["stopped_early"])
    assert stopped["step"] > 20  # it used its time
    assert events[-1] == {"step": stopped["step"], "accuracy_after": 0.9}  # and then measured the result
    assert 1.0 < status.elapsed_s < 10.0  # loose: CI machines may be busy


def test_a_job_wrapping_up_may_pass_its_limit_but_not_the_hard_limit(make_runner):
    runner = make_runner(job_seconds=2, grace_seconds=4)
    slow_end = runner.submit("a", train_with_deadline, n=10_000, sleep=0.01, finish_s=1.0)
    status = wait_finished(runner, slow_end)
    assert status.state == "done" and status.elapsed_s > 2 and runner.result(slow_end) == b"weights"
    hung_end = runner.submit("a", train_with_deadline, n=10_000, sleep=0.01, finish_s=60)
    status = wait_finished(runner, hung_end, timeout=20)
    assert status.state == "timed_out" and "did not stop" in status.error
    assert any("stopped_early" in e for e in runner.events(hung_end))


def test_a_finished_run_is_timed_for_the_estimate_before_the_next(make_runner):
    runner = make_runner()
    assert runner.pace(count_steps) is None
    job = runner.submit("a", count_steps, n=20, sleep=0.05)
    wait_finished(runner, job)
    pace = runner.pace(count_steps)
    assert pace.steps == 20 and 5 < pace.steps_per_s < 21
    assert pace.settings == {"n": 20, "sleep": 0.05} and pace.differing({"n": 40, "sleep": 0.05}) == ["n"]
    assert pace.estimate({"n": 20, "sleep": 0.05}, 40, 30, "run").startswith("About ")
    cancelled = runner.submit("a", forever, sleep=0.05)
    wait_until(lambda: runner.status(cancelled).n_events > 3)
    runner.cancel(cancelled)
    wait_finished(runner, cancelled)
    assert runner.pace(forever) is None  # only runs that finished are timed: a cancelled one has no end


def test_exception_fails_the_job(make_runner, caplog):
    runner = make_runner()
    job = runner.submit("a", fail_after, n=2)
    status = wait_finished(runner, job)
    assert (status.state, status.n_events) == ("failed", 2)
    assert status.error == "ValueError: learning rate too high"
    assert runner.result(job) is None
    wait_until(lambda: "Traceback" in caplog.text)  # the traceback goes to the log, not the page


def test_cancel_session_cancels_only_that_session(make_runner):
    runner = make_runner(max_jobs=2)
    mine = runner.submit("a", forever)
    theirs = runner.submit("b", forever)
    wait_until(lambda: runner.status(mine).n_events > 0 and runner.status(theirs).n_events > 0)
    runner.cancel_session("a")
    assert wait_finished(runner, mine).state == "cancelled"
    time.sleep(0.2)
    assert runner.status(theirs).state == "running"


def test_results_are_looked_up_by_job_id(make_runner):
    runner = make_runner(max_jobs=2)
    a = runner.submit("a", count_steps, n=1, result=b"secret-a")
    b = runner.submit("b", fail_after, n=1)
    wait_finished(runner, a)
    wait_finished(runner, b)
    assert len(a) == 32 and a != b
    assert runner.result(a) == b"secret-a"
    assert runner.result(b) is None
    for lookup in (runner.status, runner.events, runner.result, runner.cancel):
        with pytest.raises(KeyError):
            lookup("0" * 32)


def test_functions_that_cannot_travel_fail_at_submit(make_runner):
    runner = make_runner()
    with pytest.raises(TypeError, match="module-level function"):
        runner.submit("a", lambda: iter([]))


def test_killed_worker_fails_its_job_and_is_replaced(make_runner):
    runner = make_runner(max_jobs=1)
    job = runner.submit("a", forever)
    wait_until(lambda: runner.status(job).n_events > 0)
    [pid] = runner._worker_pids()
    os.kill(pid, signal.SIGKILL)
    status = wait_finished(runner, job)
    assert status.state == "failed" and "killed by SIGKILL" in status.error
    wait_until(lambda: runner._worker_pids() not in ([], [pid]))
    after = runner.submit("a", count_steps, n=2)
    assert wait_finished(runner, after).state == "done"


def test_hung_step_is_killed_at_the_time_limit(make_runner):
    runner = make_runner(max_jobs=1, job_seconds=3, grace_seconds=0.5)
    [pid] = runner._worker_pids()
    job = runner.submit("a", hang, seconds=60)
    status = wait_finished(runner, job, timeout=10)
    assert status.state == "timed_out" and "did not stop" in status.error
    assert runner._worker_pids() != [pid]
    after = runner.submit("a", count_steps, n=1)
    assert wait_finished(runner, after).state == "done"


def test_hung_step_is_killed_after_an_ignored_cancel(make_runner):
    runner = make_runner(max_jobs=1, grace_seconds=0.5)
    job = runner.submit("a", hang, seconds=60)
    wait_until(lambda: runner.status(job).n_events > 0)
    runner.cancel(job)
    assert wait_finished(runner, job, timeout=10).state == "cancelled"


def test_pool_is_warm(make_runner):
    runner = make_runner(max_jobs=1)

    def time_to_first_event() -> float:
        start = time.monotonic()
        job = runner.submit("a", count_steps, n=1)
        wait_until(lambda: runner.status(job).n_events > 0)
        seconds = time.monotonic() - start
        wait_finished(runner, job)
        return seconds

    cold, warm = time_to_first_event(), time_to_first_event()
    print(f"time to first event: cold {cold:.3f} s, warm {warm:.3f} s")
    assert warm < min(cold, 0.5)


def test_limits_from_environment(make_runner, monkeypatch):
    monkeypatch.setenv("ZOO_MAX_JOBS", "3")
    monkeypatch.setenv("ZOO_JOB_SECONDS", "7.5")
    runner = make_runner(max_jobs=None, job_seconds=None)
    assert (runner.max_jobs, runner.job_seconds, len(runner._worker_pids())) == (3, 7.5, 3)
    monkeypatch.setenv("ZOO_MAX_JOBS", "two")
    with pytest.raises(ValueError, match="ZOO_MAX_JOBS"):
        JobRunner(preload=())
