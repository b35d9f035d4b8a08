"""The fine-tuning panel under a short time limit (ZOO_JOB_SECONDS), through the U-Net page: before the
first run it says nothing has been timed yet; the default fine-tune, longer than the limit, stops early,
says so, shows its "after" figures and still offers its weights; then the panel estimates the next run
from the pace it measured, and says it will stop early."""
import re

import pytest

from tests.app.conftest import open_page, run_until
from zoo import jobs
from zoo.jobs import runner as job_runner

LIMIT_S = 12
"""short enough that the U-Net page's default 80 steps do not fit (they take about 30 s on one core)"""


@pytest.fixture
def short_limit(monkeypatch):
    """The app's job runner replaced, for this test, by one whose jobs may run LIMIT_S seconds."""
    monkeypatch.setenv("ZOO_JOB_SECONDS", str(LIMIT_S))
    runner = jobs.JobRunner(max_jobs=1)
    monkeypatch.setattr(job_runner, "_runner", runner)
    yield runner
    runner.shutdown()


def _ended(at) -> bool:
    return bool(at.warning or at.error or any("finished" in s.value for s in at.success))


def test_a_default_fine_tune_past_the_limit_stops_early_and_keeps_its_weights(short_limit):
    at = open_page("pages/unet.py")
    assert any("has not timed this fine-tuning yet" in c.value for c in at.caption)
    at.button(key="unet_ft_start").click().run()
    run_until(at, _ended, seconds=120)
    assert not at.error
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("Fine-tuning finished early.")
    assert re.search(rf"Stopped after \d+ of 80 steps to finish within the server's time limit of {LIMIT_S} s", warning)
    assert any(m.label == "Dice, star (after)" for m in at.metric)
    assert at.get("download_button")
    [estimate] = [c.value for c in at.caption if "steps/s" in c.value]
    assert re.match(r"About [\d.]+ (s|min) for 80 steps: [\d.]+ steps/s and .+ as measured on this server's latest "
                    r"fine-tuning\. That is longer than the server's time limit of 12 s: it will stop after about "
                    r"\d+ steps? and keep what it has learned by then\.$", estimate)
