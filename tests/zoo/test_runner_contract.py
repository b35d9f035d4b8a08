"""The interface pages use, held by both job backends: the local worker pool and a Ray cluster (a head on the
loopback, started once for the session by the `ray_head` fixture). One suite, parametrised by backend: a run and its
events in order, its result, cancel within one step, the time limit, the queue (FIFO, positions, its cap), one job
per session, a session's end, a failing job's message, a killed worker, expired and released jobs, and the record
of every session's runs (`runs`).

Runners are small (one or two slots, short limits, no preload) and each is shut down by `make_runner`."""
from __future__ import annotations

import os
import signal
import time
from typing import Callable

import numpy as np
import pytest

from tests.zoo.contract_jobs import forever_in_own_process, reported_run
from tests.zoo.jobs_fixtures import count_steps, fail_after, forever
from zoo.jobs import JobLimitError, JobRunner, JobStatus

TIMEOUT_S = 30.0  # loose: a Ray worker's first job imports its module, on 2 busy cores


@pytest.fixture(params=["local", pytest.param("ray", marks=pytest.mark.xdist_group("ray"))])  # one Ray head
def make_runner(request):
    """Build runners of one backend with the given limits, and shut every one down afterwards."""
    runners = []

    def make(**limits):
        limits = {"max_jobs": 1, "job_seconds": 30, "preload": (), **limits}
        if request.param == "ray":
            from zoo.jobs.ray_runner import RayJobRunner
            runner = RayJobRunner(address=request.getfixturevalue("ray_head").address, **limits)
        else:
            runner = JobRunner(**limits)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.shutdown()


def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def wait_finished(runner, job_id: str, timeout: float = TIMEOUT_S) -> JobStatus:
    wait_until(lambda: runner.status(job_id).finished, timeout)
    return runner.status(job_id)


def test_a_job_runs_and_its_events_come_in_order_with_its_result(make_runner):
    runner = make_runner()
    job = runner.submit("a", count_steps, n=5, result=b"weights-a")
    status = wait_finished(runner, job)
    assert (status.state, status.error, status.position, status.n_events) == ("done", None, None, 5)
    assert status.elapsed_s > 0
    events = runner.events(job)
    assert [event["step"] for event in events] == [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(events[2]["image"], np.full((2, 2), 3))
    assert runner.events(job, since=3) == events[3:] and runner.events(job, 1, 3) == events[1:3]
    assert runner.result(job) == b"weights-a" and runner.result(job) == b"weights-a"  # until released
    assert runner.pace(count_steps).steps == 5


def test_cancel_stops_a_running_job_within_one_step_and_closes_it(make_runner, tmp_path):
    runner = make_runner()
    marker = tmp_path / "closed"
    job = runner.submit("a", forever, sleep=0.2, closed_marker=str(marker))
    wait_until(lambda: runner.status(job).n_events >= 2)
    runner.cancel(job)
    seen = runner.status(job).n_events
    status = wait_finished(runner, job, timeout=5)
    assert status.state == "cancelled" and status.error is None
    assert status.n_events - seen <= 1  # at most the step under way
    assert marker.read_text() == "closed"  # the generator was closed, so its finally ran
    assert runner.result(job) is None


def test_the_time_limit_stops_a_job_with_a_sentence(make_runner):
    runner = make_runner(job_seconds=1)
    job = runner.submit("a", forever, sleep=0.05)
    status = wait_finished(runner, job)
    assert (status.state, status.error) == ("timed_out", "The job reached its time limit of 1 s and was stopped.")
    assert 1.0 <= status.elapsed_s < 15.0  # loose: CI machines may be busy


def test_the_queue_is_fifo_with_positions_and_cancellable(make_runner):
    runner = make_runner(max_jobs=1)
    first = runner.submit("a", forever)
    wait_until(lambda: runner.status(first).state == "running")
    second = runner.submit("b", count_steps, n=2, result=b"b")
    third = runner.submit("c", count_steps, n=2, result=b"c")
    fourth = runner.submit("d", count_steps, n=2)
    assert [(runner.status(j).state, runner.status(j).position) for j in (second, third, fourth)] == [
        ("queued", 1), ("queued", 2), ("queued", 3)]
    assert runner.status(second).elapsed_s == 0
    runner.cancel(third)
    assert (runner.status(third).state, runner.status(fourth).position) == ("cancelled", 2)
    runner.cancel(first)
    assert [wait_finished(runner, j).state for j in (first, second, fourth)] == ["cancelled", "done", "done"]
    assert runner.result(second) == b"b"


def test_the_queue_is_capped_with_a_sentence(make_runner):
    runner = make_runner(max_jobs=1, max_queue=2)
    running = runner.submit("a", forever)
    wait_until(lambda: runner.status(running).state == "running")
    waiting = [runner.submit(session, forever) for session in ("b", "c")]
    with pytest.raises(JobLimitError) as refused:
        runner.submit("d", count_steps, n=1)
    assert str(refused.value) == ("The server is busy: its training slot is taken and its queue is full (2 waiting). "
                                  "Try again in a few minutes.")
    runner.cancel(waiting[0])
    assert runner.status(runner.submit("d", count_steps, n=1)).state == "queued"  # room again


def test_one_job_per_session(make_runner):
    runner = make_runner(max_jobs=2)
    job = runner.submit("a", forever)
    with pytest.raises(JobLimitError, match="already have a training job"):
        runner.submit("a", count_steps, n=1)
    other = runner.submit("b", count_steps, n=1)
    assert wait_finished(runner, other).state == "done"
    runner.cancel(job)
    wait_finished(runner, job)
    assert wait_finished(runner, runner.submit("a", count_steps, n=1)).state == "done"  # once the first has ended


def test_a_session_end_cancels_its_jobs_only_and_forgets_them(make_runner, tmp_path):
    runner = make_runner(max_jobs=2)
    done = runner.submit("a", count_steps, n=2)
    wait_finished(runner, done)
    marker = tmp_path / "closed"
    mine = runner.submit("a", forever, closed_marker=str(marker))
    theirs = runner.submit("b", forever)
    wait_until(lambda: runner.status(mine).n_events > 0 and runner.status(theirs).n_events > 0)
    runner.cancel_session("a")
    assert runner.status(done).state == "expired"  # a finished job of the session is forgotten at once
    wait_until(lambda: marker.exists())             # the running one stops ...
    assert wait_finished(runner, mine).state == "expired"  # ... and is forgotten then
    assert runner.events(mine) == []
    time.sleep(0.3)
    assert runner.status(theirs).state == "running"


def test_a_failing_job_says_why_and_keeps_its_events(make_runner):
    runner = make_runner()
    job = runner.submit("a", fail_after, n=2)
    status = wait_finished(runner, job)
    assert (status.state, status.n_events, status.error) == ("failed", 2, "ValueError: learning rate too high")
    assert runner.result(job) is None and len(runner.events(job)) == 2


def test_a_killed_worker_fails_its_job_and_the_next_job_runs(make_runner):
    runner = make_runner()
    job = runner.submit("a", forever_in_own_process)
    wait_until(lambda: runner.status(job).n_events > 0)
    pid = runner.events(job)[0]["pid"]
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    status = wait_finished(runner, job)
    assert status.state == "failed" and status.error.startswith("The training process ")
    assert wait_finished(runner, runner.submit("a", count_steps, n=2)).state == "done"


def test_a_released_job_shrinks_to_its_status(make_runner):
    runner = make_runner()
    job = runner.submit("a", count_steps, n=3, result=b"weights")
    wait_finished(runner, job)
    runner.release(job)
    status = runner.status(job)
    assert (status.state, status.n_events) == ("done", 3)
    assert runner.events(job) == [] and runner.result(job) is None


def test_an_unknown_job_reads_as_expired_with_a_sentence(make_runner):
    runner = make_runner()
    unknown = "0" * 32
    status = runner.status(unknown)
    assert (status.state, status.finished, status.n_events) == ("expired", True, 0)
    assert status.error.startswith("This run is no longer on the server")
    assert runner.events(unknown) == [] and runner.result(unknown) is None
    runner.cancel(unknown)
    runner.release(unknown)


def test_functions_that_cannot_travel_fail_at_submit(make_runner):
    runner = make_runner()
    with pytest.raises(TypeError, match="module-level function"):
        runner.submit("a", lambda: iter([]))


def test_a_run_is_recorded_with_its_page_settings_numbers_and_histograms_past_its_release(make_runner):
    runner = make_runner()
    job = runner.submit("a", reported_run, "cnn", name="cnn-fashion", steps=4)
    wait_finished(runner, job)
    runner.release(job)  # the page has drawn it: the run's record stays
    [run] = runner.runs("a")
    assert (run.id, run.page, run.function, run.checkpoint, run.state, run.error) == (
        job, "cnn", "tests.zoo.contract_jobs.reported_run", "cnn-fashion", "done", None)
    assert run.settings == {"name": "cnn-fashion", "steps": 4} and run.repeatable
    assert [(p["step"], p.get("loss")) for p in run.points] == [(0, None), (1, 1.0), (2, 0.5), (3, 1 / 3), (4, 0.25),
                                                                 (4, None)]
    assert all("picture" not in p and "note" not in p for p in run.points)  # numbers only
    times = [p["time"] for p in run.points]
    assert times == sorted(times) and run.submitted - 1 <= run.started <= times[0] + 1 and times[-1] <= run.ended + 1
    assert run.final == {"accuracy_before": 0.5, "before.test": 0.5, "loss": 0.25, "accuracy_after": 0.75,
                         "after.test": 0.75}
    assert [(h["step"], h["layers"]["layer.weight"]["counts"]) for h in run.histograms] == [(2, [2, 1, 0]), (4, [4, 1, 0])]
    assert runner.runs("b") == []


def test_a_sessions_runs_end_with_it_and_record_how_each_ended(make_runner):
    runner = make_runner()
    failed = runner.submit("a", fail_after, n=2)
    wait_finished(runner, failed)
    cancelled = runner.submit("a", forever)
    wait_until(lambda: runner.status(cancelled).n_events > 0)
    runner.cancel(cancelled)
    wait_finished(runner, cancelled)
    assert [(run.id, run.state, run.error, run.page) for run in runner.runs("a")] == [
        (failed, "failed", "ValueError: learning rate too high", ""), (cancelled, "cancelled", None, "")]
    runner.cancel_session("a")
    assert runner.runs("a") == []
