"""The fine-tuning panel under a short time limit (ZOO_JOB_SECONDS), through the U-Net page: before the
first run it says nothing has been timed yet; the default fine-tune, longer than the limit, stops early,
says so, shows its "after" figures and still offers its weights, redrawn from the session once the runner
has let go of the run; then the panel estimates the next run from the pace it measured, and says it will
stop early. Through the CNN page: a run the runner no longer knows (forgotten, or the server restarted)
ends in a sentence, and Start is free again; beside Start, the run downloads as a Python script, written when
clicked."""
import re

import pytest
from streamlit.delta_generator import DeltaGenerator

from tests.app.conftest import open_page, run_until
from zoo import jobs
from zoo.i18n import t
from zoo.jobs import runner as job_runner

LIMIT_S = 20
"""short enough that the U-Net page's default 80 steps do not fit (they take about 30 s on one core), long enough for
the few steps a pace is measured from on a slow CPU (12 s left one step after the setup on an AVX2-only core)"""


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
    assert at.download_button(key="unet_ft_download")
    assert short_limit.events(at.session_state["unet_ft_job"]) == []  # the page took them: the runner let go
    at.run()
    assert any(m.label == "Dice, star (after)" for m in at.metric) and at.download_button(key="unet_ft_download")
    [estimate] = [c.value for c in at.caption if "steps/s" in c.value]
    assert re.match(r"About [\d.]+ (s|min) for 80 steps: [\d.]+ steps/s and .+ as measured on this server's latest "
                    rf"fine-tuning\. That is longer than the server's time limit of {LIMIT_S} s: it will stop after "
                    r"about \d+ steps? and keep what it has learned by then\.$", estimate)


def test_a_run_the_runner_no_longer_knows_ends_in_a_sentence_and_can_start_again(short_limit, monkeypatch):
    at = open_page("pages/cnn.py")
    at.button(key="cnn_ft_start").click().run()
    assert at.button(key="cnn_ft_start").disabled
    restarted = jobs.JobRunner(max_jobs=1)  # a runner that never saw the run, as after a restart
    monkeypatch.setattr(job_runner, "_runner", restarted)
    try:
        at.run()
        assert not at.exception and not at.error
        assert [i.value for i in at.info if "no longer on the server" in i.value] == [t("jobs.expired")]
        assert not at.button(key="cnn_ft_start").disabled
        at.button(key="cnn_ft_start").click().run()
        assert restarted.status(at.session_state["cnn_ft_job"]).state in ("queued", "running")
        assert not any("no longer on the server" in i.value for i in at.info)
    finally:
        restarted.shutdown()


def test_the_run_downloads_as_a_python_script_of_the_current_settings(monkeypatch):
    """The button's data is a callable (Streamlit calls it on the click), which AppTest does not run: a spy keeps it."""
    offered = {}
    download_button = DeltaGenerator.download_button

    def spy(self, label, data, *args, **kwargs):
        offered[kwargs.get("key")] = (label, data, kwargs.get("file_name"))
        return download_button(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    at = open_page("pages/cnn.py")
    at.slider(key="cnn_steps").set_value(30).run()
    assert not at.exception
    label, data, file_name = offered["cnn_ft_script"]
    assert (label, file_name) == ("Download as a Python script", "cnn-fashion-finetuned.py")
    assert callable(data)
    script = data().decode()
    compile(script, file_name, "exec")
    assert "\nsteps = 30  # int, set on the page\n" in script
    assert "\nname = 'cnn-fashion'  # str, set on the page\n" in script
    assert "finetune_classifier(" in script and "cnn-fashion-finetuned.safetensors" in script
