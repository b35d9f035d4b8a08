"""The local job runner beyond the contract both backends keep (tests/zoo/test_runner_contract.py): a cancelled
queued job, dead and hung workers, warmth, a job that ends early near its limit and keeps what it has, and the
pace of finished runs behind the estimate; and what bounds it on a shared server: no queue at all, the bounded
event history and live frames, forgotten jobs, the pool thread surviving an injected failure, the worker memory
limit.

Runners here are small (one or two workers, short limits, no torch preload) and every one
is shut down by the `make_runner` fixture.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from tests.zoo.jobs_fixtures import (count_steps, environment_variable, fail_after, flood, forever, hang, hog,
                                     live_frames, peak_rss_mb, train_with_deadline, translated)
from zoo import i18n, settings
from zoo.jobs import JobLimitError, JobRunner, JobStatus
from zoo.jobs import runner as job_runner
from zoo.jobs import records
from zoo.jobs.history import MAX_BYTES
from zoo.live_run import LiveRun


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


def test_a_failing_jobs_traceback_goes_to_the_server_log(make_runner, caplog):
    runner = make_runner()
    job = runner.submit("a", fail_after, n=2)
    assert wait_finished(runner, job).error == "ValueError: learning rate too high"
    wait_until(lambda: "Traceback" in caplog.text)  # the traceback goes to the log, not the page


def test_results_are_looked_up_by_job_id(make_runner):
    runner = make_runner(max_jobs=2)
    a = runner.submit("a", count_steps, n=1, result=b"secret-a")
    b = runner.submit("b", fail_after, n=1)
    wait_finished(runner, a)
    wait_finished(runner, b)
    assert len(a) == 32 and a != b
    assert runner.result(a) == b"secret-a"
    assert runner.result(b) is None


def test_workers_spin_briefly_before_their_threads_sleep_unless_the_host_says_otherwise(make_runner, monkeypatch):
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    for host_value, expected in ((None, job_runner._SPIN_COUNT), ("0", "0")):
        if host_value is not None:
            monkeypatch.setenv("GOMP_SPINCOUNT", host_value)
        runner = make_runner()
        job_id = runner.submit("s", environment_variable, variable="GOMP_SPINCOUNT")
        assert wait_finished(runner, job_id).state == "done" and runner.result(job_id) == expected


def test_a_job_speaks_the_language_of_the_visitor_who_started_it_and_so_do_the_runners_messages(make_runner):
    runner = make_runner(job_seconds=0.5, grace_seconds=0.2)
    with i18n.speaking("ru"):
        job_id = runner.submit("ru", translated, key="app.language")
    assert wait_finished(runner, job_id).state == "done" and runner.result(job_id) == "Язык"
    with i18n.speaking("zh"):
        job_id = runner.submit("zh", hang, seconds=5)
    assert wait_finished(runner, job_id).error == i18n.t_for("zh", "jobs.time_limit_killed", seconds=0.5)


def test_a_job_released_while_running_keeps_nothing_it_sends_later(make_runner):
    runner = make_runner()
    job = runner.submit("a", count_steps, n=20, sleep=0.02, result=b"weights")
    wait_until(lambda: runner.status(job).n_events > 2)
    runner.release(job)
    status = wait_finished(runner, job)
    assert (status.state, status.n_events) == ("done", 20)
    assert runner.events(job) == [] and runner.result(job) is None


def test_finished_jobs_past_their_byte_budget_are_forgotten_oldest_first(make_runner, monkeypatch):
    monkeypatch.setattr(records, "KEEP_FINISHED_BYTES", 3 << 20)
    runner = make_runner()
    first = runner.submit("a", flood, n=2, kb=1024)
    wait_finished(runner, first)
    second = runner.submit("b", flood, n=2, kb=1024)
    wait_finished(runner, second)
    wait_until(lambda: runner.status(first).state == "expired")  # 4 MB held: the older goes
    assert runner.status(second).state == "done" and len(runner.events(second)) == 2


def test_no_queue_at_all_still_runs_a_job_on_a_free_slot(make_runner):
    runner = make_runner(max_jobs=1, max_queue=0)
    job = runner.submit("a", forever)
    wait_until(lambda: runner.status(job).state == "running")
    with pytest.raises(JobLimitError, match="its training slot is taken and no other job may wait"):
        runner.submit("b", count_steps, n=1)
    runner.cancel(job)
    wait_finished(runner, job)
    assert wait_finished(runner, runner.submit("b", count_steps, n=1)).state == "done"


def test_the_event_history_of_a_job_is_bounded_whatever_it_sends(make_runner):
    runner = make_runner()
    job = runner.submit("a", flood, n=300, kb=1024)  # 300 MB through the pipe
    status = wait_finished(runner, job)
    assert (status.state, status.n_events) == ("done", 300)
    events = runner.events(job)
    assert sum(e["blob"].nbytes for e in events) <= MAX_BYTES + (1 << 20)
    assert events[0]["step"] == 1 and events[-1]["step"] == 300  # the first and the newest stay
    steps = [e["step"] for e in events]
    assert steps == sorted(steps)
    assert [e["step"] for e in runner.events(job, since=295)] == [s for s in steps if s > 295]


def test_live_frames_keep_the_newest_whole_and_the_numbers_of_the_others(make_runner):
    runner = make_runner()
    job = runner.submit("a", live_frames, n=50, kb=100)
    wait_finished(runner, job)
    events = runner.events(job)
    assert [e["step"] for e in events] == list(range(1, 51))  # every point of the curves
    assert [e["loss"] for e in events] == [1.0 / step for step in range(1, 51)]
    assert events[10]["note"] == "frame 11"
    assert ["picture" in e for e in events] == [False] * 49 + [True]
    assert [e["step"] for e in runner.events(job, 10, 13)] == [11, 12, 13]


class Board(LiveRun):
    """The smallest live board: its curves are the loss."""
    metrics = ("step", "loss")


def test_a_live_board_polled_rarely_keeps_every_point_and_the_newest_weights(make_runner):
    runner = make_runner()
    board = Board()
    board._submit(runner, "a", live_frames, 20, n=40, kb=100, sleep=0.01)
    job = board.job_id
    wait_until(lambda: runner.status(job).n_events > 10)
    board.poll(runner)
    wait_finished(runner, job)
    assert board.poll(runner).state == "done" and not board.running
    assert [point["step"] for point in board.history] == list(range(1, 41))  # no point twice, none missing
    assert (board.step, board.state, board.frame["note"]) == (40, b"weights 40", "frame 40")
    assert runner.events(job) == [] and runner.status(job).n_events == 40  # released once taken


def test_a_message_too_long_fails_the_job_with_a_sentence(make_runner, monkeypatch):
    monkeypatch.setattr(job_runner, "_MAX_MESSAGE_BYTES", 1 << 20)
    runner = make_runner()
    job = runner.submit("a", flood, n=3, kb=2048)
    status = wait_finished(runner, job)
    assert (status.state, status.error) == ("failed", "The job sent a message of more than 1 MB, more than the "
                                                      "server takes from one job.")
    assert wait_finished(runner, runner.submit("a", count_steps, n=1)).state == "done"


def test_the_pool_thread_survives_a_failure_in_one_turn(make_runner, monkeypatch, caplog):
    runner = make_runner()
    enforce, failures = runner._enforce_limits, []

    def fail_once(now: float) -> list:
        if not failures:
            failures.append(now)
            raise RuntimeError("injected")
        return enforce(now)

    monkeypatch.setattr(runner, "_enforce_limits", fail_once)
    job = runner.submit("a", count_steps, n=3)
    assert wait_finished(runner, job).state == "done"
    assert failures and runner._thread.is_alive()
    assert "pool thread failed in one turn" in caplog.text


def test_the_pool_retries_starting_a_worker_that_could_not_start(make_runner, monkeypatch, caplog):
    monkeypatch.setattr(job_runner, "_RETRY_S", 0.2)
    runner = make_runner()
    wait_finished(runner, runner.submit("a", count_steps, n=1))  # the first worker is ready
    popen, refusals = job_runner.subprocess.Popen, []

    def refuse_twice(*args, **kwargs):
        if len(refusals) < 2:
            refusals.append(args)
            raise OSError(12, "Cannot allocate memory")
        return popen(*args, **kwargs)

    monkeypatch.setattr(job_runner.subprocess, "Popen", refuse_twice)
    [pid] = runner._worker_pids()
    os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    wait_until(lambda: pid not in runner._worker_pids())
    job = runner.submit("b", count_steps, n=2)
    assert wait_finished(runner, job).state == "done"  # on a worker started at the third try
    assert len(refusals) == 2 and runner._thread.is_alive()
    assert "could not start a job worker ([Errno 12] Cannot allocate memory); trying again in 0.2 s" in caplog.text
    assert "trying again in 0.4 s" in caplog.text


@pytest.mark.parametrize("with_torch", [False, True], ids=["numpy", "torch"])
def test_a_memory_blow_up_fails_the_job_within_the_worker_budget(make_runner, with_torch):
    budget = 600
    runner = make_runner(worker_memory_mb=budget)
    [pid] = ready_worker_pids(runner, jobs=1)
    assert (Path(f"/proc/{pid}/oom_score_adj").read_text().strip(), _data_limit_mb(pid)) == ("500", budget)
    server_before = peak_rss_mb()
    start = time.monotonic()
    job = runner.submit("a", hog, chunk_mb=50, with_torch=with_torch)
    status = wait_finished(runner, job, timeout=30)
    assert time.monotonic() - start < 30
    assert (status.state, status.error) == ("failed", "The training ran out of its memory budget of 600 MB and was "
                                                      "stopped; try a smaller setting (fewer images, a smaller batch "
                                                      "or model).")
    assert budget / 2 < max(e["peak_mb"] for e in runner.events(job)) < budget + 100  # code and libraries are not in it
    assert peak_rss_mb() - server_before < 50  # the server did not grow with it
    assert wait_finished(runner, runner.submit("a", count_steps, n=1)).state == "done"
    assert runner._worker_pids() not in ([], [pid])  # on a fresh worker


def ready_worker_pids(runner: JobRunner, jobs: int) -> list[int]:
    """The ids of `jobs` workers, started by as many one-step jobs, once they are ready (have set their limits and
    imported what they preload)."""
    for job in [runner.submit(f"warm-up {i}", count_steps, n=1) for i in range(jobs)]:
        wait_finished(runner, job)
    wait_until(lambda: all(worker.ready for worker in runner._workers))
    return runner._worker_pids()


def _data_limit_mb(pid: int) -> float:
    """The data limit (RLIMIT_DATA) of process `pid`, MB."""
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                if line.startswith("Max data size"))
    return int(line.split()[3]) / 2 ** 20


def test_killed_worker_fails_its_job_and_is_replaced(make_runner):
    runner = make_runner(max_jobs=1)
    job = runner.submit("a", forever)
    wait_until(lambda: runner.status(job).n_events > 0)
    [pid] = runner._worker_pids()
    os.kill(pid, signal.SIGKILL)
    status = wait_finished(runner, job)
    assert status.state == "failed" and "killed by SIGKILL" in status.error
    after = runner.submit("a", count_steps, n=2)
    assert wait_finished(runner, after).state == "done"
    assert runner._worker_pids() not in ([], [pid])  # on a fresh worker


def test_hung_step_is_killed_at_the_time_limit(make_runner):
    runner = make_runner(max_jobs=1, job_seconds=3, grace_seconds=0.5)
    job = runner.submit("a", hang, seconds=60)
    wait_until(lambda: runner.status(job).n_events > 0)
    [pid] = runner._worker_pids()
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


def test_a_worker_stays_warm_for_the_next_job(make_runner):
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
    monkeypatch.setenv("ZOO_MAX_QUEUE", "4")
    monkeypatch.setenv("ZOO_WORKER_MEMORY_MB", "1500")
    monkeypatch.setenv("ZOO_WORKER_IDLE_S", "60")
    runner = make_runner(max_jobs=None, job_seconds=None, max_queue=None, worker_memory_mb=None, idle_seconds=None)
    assert (runner.max_jobs, runner.job_seconds, runner.max_queue, runner.worker_memory_mb,
            runner.idle_seconds) == (3, 7.5, 4, 1500, 60)
    pids = ready_worker_pids(runner, jobs=3)
    assert len(pids) == 3 and all(_data_limit_mb(pid) == 1500 for pid in pids)
    monkeypatch.setenv("ZOO_MAX_JOBS", "two")
    with pytest.raises(ValueError, match="ZOO_MAX_JOBS"):
        JobRunner(preload=())
    monkeypatch.setenv("ZOO_MAX_JOBS", "2")
    monkeypatch.setenv("ZOO_WORKER_MEMORY_MB", "100")
    with pytest.raises(ValueError, match="ZOO_WORKER_MEMORY_MB must be a number of at least 1024, got '100'"):
        JobRunner(preload=())
    monkeypatch.setenv("ZOO_WORKER_MEMORY_MB", "1500")
    monkeypatch.setenv("ZOO_WORKER_IDLE_S", "-5")
    with pytest.raises(ValueError, match="ZOO_WORKER_IDLE_S must be a whole number of at least 0, got '-5'"):
        JobRunner(preload=())


def test_the_default_worker_memory_is_half_the_memory_shared_among_the_workers(monkeypatch):
    monkeypatch.delenv("ZOO_WORKER_MEMORY_MB", raising=False)
    monkeypatch.setenv("ZOO_MAX_JOBS", "2")
    monkeypatch.setattr(settings, "memory_mb", lambda: 8192.0)
    assert settings.worker_memory_mb() == 2048
    monkeypatch.setattr(settings, "memory_mb", lambda: 2048.0)
    assert settings.worker_memory_mb() == settings.MIN_WORKER_MEMORY_MB


def test_the_worker_starts_without_a_warning():
    """`python -m zoo.jobs.worker` must not find itself imported already through the package."""
    run = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c",
                          "import runpy, sys; sys.argv = ['worker']; runpy.run_module('zoo.jobs.worker', "
                          "run_name='not_main', alter_sys=True)"],
                         capture_output=True, text=True, cwd=settings.REPOSITORY)
    assert run.returncode == 0 and "RuntimeWarning" not in run.stderr, run.stderr
