"""A job whose browser session has ended is cancelled: the session-scoped guard in zoo.ui
releases into this function, which must reach the app's shared runner."""
from tests.zoo.jobs_fixtures import forever
from tests.zoo.test_jobs import wait_finished, wait_until
from zoo import jobs, ui


def test_ending_a_session_cancels_only_its_job():
    runner = jobs.get_runner()
    ended = runner.submit("tab-closed", forever, sleep=0.05)
    kept = runner.submit("tab-open", forever, sleep=0.05)
    wait_until(lambda: runner.status(ended).n_events > 0 and runner.status(kept).n_events > 0, timeout=60)
    ui._cancel_session_jobs("tab-closed")
    assert wait_finished(runner, ended).state == "cancelled"
    assert runner.status(kept).state == "running"
    runner.cancel(kept)
    assert wait_finished(runner, kept).state == "cancelled"
