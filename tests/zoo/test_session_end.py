"""A job whose browser session has ended is cancelled and forgotten: the session-scoped guard in zoo.ui.training
releases into this function, which must reach the app's shared runner. The session's finished runs go too."""
from tests.zoo.jobs_fixtures import count_steps, forever
from tests.zoo.test_jobs import wait_finished, wait_until
from zoo import jobs
from zoo.ui import training


def test_ending_a_session_cancels_and_forgets_only_its_jobs():
    runner = jobs.get_runner()
    finished = runner.submit("tab-closed", count_steps, n=3, result=b"weights")
    wait_finished(runner, finished, timeout=60)
    ended = runner.submit("tab-closed", forever, sleep=0.05)
    kept = runner.submit("tab-open", forever, sleep=0.05)
    wait_until(lambda: runner.status(ended).n_events > 0 and runner.status(kept).n_events > 0, timeout=60)
    training._cancel_session_jobs("tab-closed")
    assert runner.status(finished).state == "expired" and runner.result(finished) is None
    assert runner.events(ended) == []  # its events go at once ...
    assert wait_finished(runner, ended).state == "expired"  # ... and its record once it has stopped
    assert runner.status(kept).state == "running" and runner.events(kept)
    runner.cancel(kept)
    assert wait_finished(runner, kept).state == "cancelled"
