"""The Runs page through the real entry point: with no runs it says how to make one; a real short CNN fine-tune,
started on the CNN page, shows there with its curves and weight histograms; a runs file uploads (JSON and CSV) and a
bad one is refused with a sentence; the repeat button queues a run's settings with other seeds, one job after
another."""
import time

import pytest

from tests.app.conftest import chart, open_page, run_until
from tests.app.runs_fixtures import noisy_descent
from tests.zoo.test_runs import rich_record
from zoo import jobs
from zoo.ui import training
from zoo.jobs import runner as job_runner
from zoo.runs import files

PAGE = "pages/runs.py"
SESSION = "runs-page-test"


@pytest.fixture
def runner(monkeypatch):
    """A fresh job runner for the app, and the test's browser session under a known id."""
    fresh = jobs.JobRunner(max_jobs=1)
    monkeypatch.setattr(job_runner, "_runner", fresh)
    monkeypatch.setattr(training, "session_id", lambda: SESSION)
    yield fresh
    fresh.shutdown()


def wait_done(runner, job_id, seconds=120):
    deadline = time.monotonic() + seconds
    while not runner.status(job_id).finished:
        assert time.monotonic() < deadline, "timed out waiting for the job"
        time.sleep(0.1)


def test_with_no_runs_it_says_how_to_make_one_and_that_a_restart_loses_them(runner):
    at = open_page(PAGE)
    assert not at.exception and not at.error
    assert "a restart keeps nobody's runs but those they downloaded" in at.warning[0].value
    assert at.info[0].value.startswith("No runs yet in this session.")
    assert not at.get("plotly_chart")


def test_a_cnn_fine_tune_started_on_its_page_shows_with_its_curves_and_weight_histograms(runner):
    at = open_page("pages/cnn.py")
    at.slider(key="cnn_steps").set_value(10)
    at.slider(key="cnn_n").set_value(500).run()
    at.button(key="cnn_ft_start").click().run()
    run_until(at, lambda at: any("finished" in s.value for s in at.success), seconds=240)
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error
    [row] = at.dataframe[0].value.to_dict("records")
    assert (row["page"], row["checkpoint"], row["state"], row["steps"], row["from"]) == (
        "CNN", "cnn-fashion", "done", 10, "this session")
    assert '"training loss"' in chart(at, "runs_chart_loss").proto.spec
    assert "held-out accuracy" in chart(at, "runs_chart_accuracy").proto.spec
    histograms = [c for c in at.get("plotly_chart") if c.key.startswith("runs_histogram_")]
    assert len(histograms) >= 4 and '"heatmap"' in histograms[0].proto.spec  # a conv net's kernels and matrices
    at.toggle(key="runs_group").set_value(True).run()
    at.radio(key="runs_y").set_value("log").run()
    assert not at.exception and "(1 run)" in chart(at, "runs_chart_loss").proto.spec


@pytest.mark.parametrize("write, name", [(files.to_json, "classmate.json"), (files.to_csv, "classmate.csv")])
def test_a_runs_file_uploads_and_draws(runner, write, name):
    at = open_page(PAGE)
    at.file_uploader(key="runs_upload").upload(name, write([rich_record()]), "application/octet-stream").run()
    assert not at.exception and not at.error
    assert at.success[0].value == f"1 run read from {name}."
    assert at.dataframe[0].value.to_dict("records")[0]["from"] == name
    assert chart(at, "runs_chart_loss") and chart(at, "runs_chart_accuracy")
    assert bool([c for c in at.get("plotly_chart") if c.key.startswith("runs_histogram_")]) == name.endswith(".json")


def test_a_bad_runs_file_is_refused_with_a_sentence(runner):
    at = open_page(PAGE)
    at.file_uploader(key="runs_upload").upload("runs.json", b'{"runs": [1, 2]}', "application/json").run()
    assert not at.exception
    assert [e.value for e in at.error] == [f'runs.json is JSON but not a runs file of this app (no "format": '
                                           f'"{files.FORMAT}").']
    assert at.info[0].value.startswith("No runs yet in this session.")


def test_the_repeat_button_queues_the_run_with_other_seeds_one_after_another(runner):
    first = runner.submit(SESSION, noisy_descent, "mlp", steps=5, lr=0.2, seed=0)
    wait_done(runner, first)
    at = open_page(PAGE)
    at.number_input(key="runs_repeat_times").set_value(2).run()
    at.button(key="runs_repeat").click().run()
    assert not at.exception and not at.error
    [queued] = [r for r in runner.runs(SESSION) if r.id != first]  # one job at a time: the second waits
    assert queued.settings == {"steps": 5, "lr": 0.2, "seed": 1} and queued.page == "mlp"
    run_until(at, lambda at: len(runner.runs(SESSION)) == 3 and all(r.state == "done" for r in runner.runs(SESSION)))
    assert [r.settings["seed"] for r in runner.runs(SESSION)] == [0, 1, 2]
    at.toggle(key="runs_group").set_value(True).run()
    assert "(3 runs)" in chart(at, "runs_chart_loss").proto.spec
