"""The runner's workers start when a job needs one, serve the jobs that follow, and exit once idle for
ZOO_WORKER_IDLE_S; a job whose worker dies while starting runs on the next one."""
from __future__ import annotations

import os
import signal
import time

from tests.zoo.jobs_fixtures import count_steps, forever
from tests.zoo.test_jobs import make_runner, wait_finished, wait_until  # noqa: F401  (make_runner: a fixture)
from zoo.jobs import runner as job_runner


def gone(pid: int) -> bool:
    """Whether process `pid` has exited and been reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_no_worker_runs_before_a_job_needs_one(make_runner):
    runner = make_runner(max_jobs=2)
    time.sleep(1.0)
    assert runner._worker_pids() == []
    assert wait_finished(runner, runner.submit("a", count_steps, n=1)).state == "done"
    assert len(runner._worker_pids()) == 1  # one job, one worker: the second slot starts nothing


def test_jobs_queued_together_start_a_worker_each_up_to_the_slots(make_runner):
    runner = make_runner(max_jobs=2)
    jobs = [runner.submit(session, forever) for session in "abc"]
    wait_until(lambda: runner.status(jobs[0]).n_events > 0 and runner.status(jobs[1]).n_events > 0)
    assert len(runner._worker_pids()) == 2 and runner.status(jobs[2]).position == 1
    runner.cancel(jobs[0])
    wait_until(lambda: runner.status(jobs[2]).n_events > 0)  # on the first job's worker
    assert len(runner._worker_pids()) == 2


def test_a_worker_serves_the_next_job_within_its_idle_time(make_runner):
    runner = make_runner(idle_seconds=30)
    wait_finished(runner, runner.submit("a", count_steps, n=1))
    [pid] = runner._worker_pids()
    wait_finished(runner, runner.submit("b", count_steps, n=1))
    assert runner._worker_pids() == [pid]


def test_an_idle_worker_exits_and_a_later_job_starts_a_fresh_one(make_runner):
    runner = make_runner(idle_seconds=1)
    wait_finished(runner, runner.submit("a", count_steps, n=1))
    [pid] = runner._worker_pids()
    wait_until(lambda: runner._worker_pids() == [] and gone(pid), timeout=10)
    job = runner.submit("a", count_steps, n=3, result=b"again")
    assert wait_finished(runner, job).state == "done" and runner.result(job) == b"again"
    assert runner._worker_pids() not in ([], [pid])


def test_no_idle_time_gives_each_job_a_fresh_worker(make_runner):
    runner = make_runner(idle_seconds=0)
    job = runner.submit("a", forever)
    wait_until(lambda: runner.status(job).n_events > 0)
    [first] = runner._worker_pids()
    runner.cancel(job)
    wait_finished(runner, job)
    wait_until(lambda: runner._worker_pids() == [] and gone(first))
    assert wait_finished(runner, runner.submit("a", count_steps, n=1)).state == "done"


def test_a_job_whose_worker_dies_while_starting_runs_on_the_next(make_runner, monkeypatch):
    monkeypatch.setattr(job_runner, "_RETRY_S", 0.2)
    runner = make_runner(preload=("torch",))  # importing torch gives the time to kill it before it is ready
    job = runner.submit("a", count_steps, n=2, result=b"weights")
    wait_until(lambda: runner._worker_pids() != [])
    [pid] = runner._worker_pids()
    os.kill(pid, signal.SIGKILL)
    status = wait_finished(runner, job, timeout=60)
    assert (status.state, status.error, runner.result(job)) == ("done", None, b"weights")
    assert runner._worker_pids() not in ([], [pid])
