"""The Runs page's pieces in this process: TensorBoard's smoothing against a hand computation, groups of runs with
their mean and spread, runs through CSV and JSON and back, every bad runs file refused with a sentence, the run log's
bounds, the weight histograms a fine-tune sends, and repeats submitted one after another. Through both job runners:
tests/zoo/test_runner_contract.py; through the page: tests/app/test_runs_page.py."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch

from zoo import i18n, jobs
from zoo.jobs import run_log
from zoo.jobs.run_log import RunLog, RunRecord
from zoo.runs import curves, files, repeat
from zoo.training.weight_histograms import WeightHistograms

FUNCTION = "tests.app.runs_fixtures.noisy_descent"


def record(run_id: str = "a1", seed: int = 0, lr: float = 0.1, steps=(0, 1, 2), values=(1.0, 2.0, 3.0),
           **fields) -> RunRecord:
    points = tuple({"step": s, "time": 1000.0 + s, "loss": v} for s, v in zip(steps, values))
    return RunRecord(**{"id": run_id, "page": "cnn", "function": FUNCTION, "checkpoint": "cnn-fashion",
                        "settings": {"name": "cnn-fashion", "lr": lr, "steps": 3, "seed": seed}, "state": "done",
                        "submitted": 990.0, "started": 999.5, "ended": 1003.25, "points": points,
                        "final": {"loss": float(values[-1])} if values else {}, **fields})


# ---- smoothing ----------------------------------------------------------------------------------------------

def test_smoothing_is_tensorboards_debiased_moving_average():
    # by hand, weight 0.5: 0.5*0 + 0.5*1 = 0.5, /(1 - 0.5) = 1; 0.25 + 1 = 1.25, /0.75; 0.625 + 1.5 = 2.125, /0.875
    np.testing.assert_allclose(curves.smooth([1, 2, 3], 0.5), [1.0, 1.25 / 0.75, 2.125 / 0.875])
    # a non-finite value stays and is skipped: the third is 0.5*0.5 + 0.5*3 = 1.75 over 1 - 0.25
    np.testing.assert_allclose(curves.smooth([1, np.nan, 3], 0.5), [1.0, np.nan, 1.75 / 0.75])
    np.testing.assert_array_equal(curves.smooth([4, 1, 7], 0.0), [4, 1, 7])
    assert curves.smooth([2.0] * 50, 0.99)[0] == pytest.approx(2.0)  # no pull towards 0 at the start


def test_a_curve_runs_against_steps_relative_or_wall_time():
    run = record()
    assert list(curves.run_curve(run, "r", "loss", 0.0, "step").x) == [0, 1, 2]
    assert list(curves.run_curve(run, "r", "loss", 0.0, "relative").x) == [0.5, 1.5, 2.5]
    assert list(curves.run_curve(run, "r", "loss", 0.0, "wall").x) == [1000.0, 1001.0, 1002.0]


# ---- groups -------------------------------------------------------------------------------------------------

def test_runs_that_differ_only_by_seed_form_one_group_with_mean_and_spread():
    a, b = record("a", seed=0), record("b", seed=1, steps=(0, 2), values=(3.0, 5.0))
    other = record("c", lr=0.3)
    assert curves.groups([a, other, b]) == [[a, b], [other]]
    band = curves.group_band([a, b], "g", "loss", 0.0)
    np.testing.assert_array_equal(band.x, [0, 1, 2])  # b interpolated at step 1: 4
    np.testing.assert_allclose(band.mean, [2, 3, 4])
    np.testing.assert_allclose([band.low, band.high], [[1, 2, 3], [3, 4, 5]])
    std = curves.group_band([a, b], "g", "loss", 0.0, "std")
    np.testing.assert_allclose([std.low, std.high], [[1, 2, 3], [3, 4, 5]])  # std of two values 1 apart: 1
    late = record("d", steps=(1, 2, 3), values=(0.0, 0.0, 0.0))
    np.testing.assert_array_equal(curves.group_band([a, late], "g", "loss", 0.0).x, [1, 2])  # where both ran
    assert curves.group_labels([[a, b], [other]]) == ["CNN: lr=0.1 (2 runs)", "CNN: lr=0.3 (1 run)"]


def test_labels_are_distinct_and_the_table_shows_last_values():
    runs = [record("a"), record("b"), record("c", seed=1)]
    labels = curves.run_labels(runs)
    assert labels[0] == "CNN 00:16:30 seed 0" and len(set(labels)) == 3
    [row, *_] = curves.table_rows(runs, labels, ["loss"])
    assert (row["steps"], row["seconds"], row["loss"]) == (2, 3.8, 3.0)
    assert curves.curve_metrics([record(steps=(5,), values=(1.0,)), record()]) == ["loss"]
    assert curves.curve_metrics([record(steps=(5,), values=(1.0,))]) == []


def test_labels_and_refusals_speak_the_readers_language():
    runs = [record("a"), record("b", lr=0.3)]
    with i18n.speaking("ru"):
        assert curves.run_labels(runs)[0] == "CNN, свёрточная сеть 00:16:30, сид 0"
        assert curves.group_labels(curves.groups(runs))[1] == "CNN, свёрточная сеть: lr=0.3 (1 запуск)"
        assert curves.table_rows(runs, ["a", "b"], [])[0]["state"] == "завершён"
        with pytest.raises(files.RunsFileError, match="^Файл big.json весит 20,0 МБ"):
            files.read_runs(b" " * (files.MAX_FILE_BYTES + 1), "big.json")
    with i18n.speaking("zh"):
        assert repeat.why_not_repeatable(record()).startswith("它用你的数据")


# ---- files --------------------------------------------------------------------------------------------------

def rich_record(run_id: str = "r1") -> RunRecord:
    """A run as a fine-tune leaves it: metrics at some steps only, nested settings, final figures, histograms."""
    points = ({"step": 0, "time": 1700000000.125, "accuracy": 0.5, "validation_loss": 1.25},
              {"step": 1, "time": 1700000000.5, "loss": 2.0 / 3},
              {"step": 2, "time": 1700000001.0, "loss": 0.1, "accuracy": 0.625, "validation_loss": 1.0})
    histograms = ({"step": 0, "layers": {"conv.weight": {"range": (-0.5, 0.5), "counts": [1, 2, 3]}}},
                  {"step": 2, "layers": {"conv.weight": {"range": (-0.5, 0.5), "counts": [2, 2, 2]}}})
    return RunRecord(run_id, "mlp", "models.mlp.playground.train_run", None,
                     {"lr": 0.001, "config": {"hidden": [8, 8], "activation": "relu"}, "steps": 2}, "failed",
                     1700000000.0, 1700000000.1, 1700000002.0, "ValueError: learning rate, too high\nsee", points,
                     {"loss": 0.1, "after.test": 0.625}, histograms)


def test_runs_round_trip_through_json_with_their_histograms():
    runs = [rich_record(), record("a2"), record("empty", steps=(), values=(), final={})]
    assert files.read_runs(files.to_json(runs), "runs.json") == runs


def test_runs_round_trip_through_csv_without_their_histograms():
    runs = [rich_record(), record("a2"), record("empty", steps=(), values=(), final={})]
    data = files.to_csv(runs)
    assert files.read_runs(data, "runs.csv") == [RunRecord(**dict(r.__dict__, histograms=())) for r in runs]
    header, *rows = csv.reader(io.StringIO(data.decode()))
    assert header == [*files.DESCRIPTION, "step", "time", "accuracy", "validation_loss", "loss"]
    assert len(rows) == 3 + 3 + 1
    assert rows[-2][:12] == ["a2"] + [""] * 10 + ["2"]  # a run's description on its first row only
    assert rows[-1][0] == "empty" and rows[-1][11:] == [""] * 5  # a run without points keeps one row


def test_numpy_numbers_are_written_as_plain_numbers():
    run = record(values=(np.float64(0.5), np.float32(0.25), 1.0), final={"loss": np.float64(1.0)})
    for write, name in ((files.to_csv, "runs.csv"), (files.to_json, "runs.json")):
        assert [p["loss"] for p in files.read_runs(write([run]), name)[0].points] == [0.5, 0.25, 1.0]


def test_settings_made_of_dataclasses_are_written_as_objects():
    from zoo.training.image_classifier import ClassifierTraining
    run = record(settings={"training": ClassifierTraining(epochs=2), "seed": 0})
    [back] = files.read_runs(files.to_json([run]), "runs.json")
    assert back.settings["training"]["epochs"] == 2
    assert curves.settings_key(back) == curves.settings_key(run)


def json_runs(**changes) -> bytes:
    document = json.loads(files.to_json([rich_record()]))
    document["runs"][0].update(changes)
    return json.dumps(document).encode()


@pytest.mark.parametrize("name, data, sentence", [
    ("runs.json", b"{not json", "runs.json is not valid JSON"),
    ("runs.json", b'{"runs": []}', "runs.json is JSON but not a runs file of this app"),
    ("runs.json", json.dumps({"format": files.FORMAT, "version": 7, "runs": []}).encode(), "of version 7"),
    ("runs.json", json_runs(state="exploded"), "Run 1 of runs.json: state 'exploded' is none of"),
    ("runs.json", json_runs(settings=[1]), "Run 1 of runs.json: its 'settings' must be an object."),
    ("runs.json", json_runs(submitted="yesterday"), "Run 1 of runs.json: its 'submitted' must be a number."),
    ("runs.json", json_runs(points={"step": ["a"], "time": [1.0], "metrics": {}}), "every step must be a whole number"),
    ("runs.json", json_runs(points={"step": [1, 2], "time": [1.0], "metrics": {}}), "lists of the same length"),
    ("runs.json", json_runs(histograms=[{"step": 1, "layers": {"w": {"range": [1, 0], "counts": [1]}}}]),
     "its weight histograms must be a list"),
    ("runs.csv", b"step,time,loss\n1,2,3\n", "runs.csv is not a runs file of this app: it has no column 'id'."),
    ("runs.csv", files.to_csv([record()]).replace(b",1000.0,", b",soon,", 1), "Row 2 of runs.csv: 'soon' in column "),
    ("runs.csv", files.to_csv([record()]) + b"a1,x\n", "Row 5 of runs.csv has 2 cells"),
    ("runs.csv", b"", "runs.csv is empty."),
    ("runs.csv", b"\xff\xfe\x00binary", "runs.csv is not a text file (UTF-8)"),
    ("runs.txt", b"{}", "runs.txt is neither a .json nor a .csv file of runs."),
])
def test_a_bad_runs_file_is_refused_with_a_sentence(name, data, sentence):
    with pytest.raises(files.RunsFileError) as refused:
        files.read_runs(data, name)
    assert sentence in str(refused.value) and "\n" not in str(refused.value)


def test_budgets_are_checked_before_parsing_and_while_reading(monkeypatch):
    with pytest.raises(files.RunsFileError, match="is 20.0 MB; a runs file may be at most 20 MB"):
        files.read_runs(b" " * (files.MAX_FILE_BYTES + 1), "big.json")
    many = [record(f"r{i}", steps=(), values=(), final={}) for i in range(files.MAX_FILE_RUNS + 1)]
    for write, name in ((files.to_json, "many.json"), (files.to_csv, "many.csv")):
        with pytest.raises(files.RunsFileError, match="holds more than 100 runs"):
            files.read_runs(write(many), name)
    monkeypatch.setattr(files, "MAX_POINTS", 2)
    for write, name in ((files.to_json, "long.json"), (files.to_csv, "long.csv")):
        with pytest.raises(files.RunsFileError, match="has more than 2 points, the most a run keeps"):
            files.read_runs(write([record()]), name)
    monkeypatch.setattr(files, "MAX_POINTS", 10)
    monkeypatch.setattr(files, "MAX_FILE_POINTS", 5)
    with pytest.raises(files.RunsFileError, match="holds more than 5 points"):
        files.read_runs(files.to_csv([record("a"), record("b")]), "two.csv")


# ---- the run log --------------------------------------------------------------------------------------------

def test_the_log_keeps_numbers_by_step_final_figures_and_histograms():
    log = RunLog()
    log.submitted("j", "s", "cnn", FUNCTION, {"name": "cnn-fashion", "lr": 0.1, "steps": 3, "images": np.zeros(3)})
    log.started("j", 5.0)
    log.observe("j", {"step": 0, "accuracy_before": 0.5, "before": {"test": 0.5}, "picture": np.zeros((2, 2)),
                      "note": "text", "live_frame": True, "weight_histograms": {"w": {"range": (-1, 1), "counts": [1]}}},
                at=6.0)
    log.observe("j", {"step": 1, "loss": np.float32(0.5), "lr": float("nan"), "total": 3}, at=7.0)
    log.ended("j", "done")
    [run] = log.runs("s")
    assert (run.page, run.checkpoint, run.settings, run.repeatable) == ("cnn", "cnn-fashion",
                                                                        {"name": "cnn-fashion", "lr": 0.1, "steps": 3}, False)
    assert run.points == ({"step": 0, "time": 6.0, "accuracy_before": 0.5}, {"step": 1, "time": 7.0, "loss": 0.5})
    assert run.final == {"accuracy_before": 0.5, "before.test": 0.5, "loss": 0.5}
    assert run.histograms == ({"step": 0, "layers": {"w": {"range": (-1, 1), "counts": [1]}}},)
    assert (run.state, run.started) == ("done", 5.0) and run.ended >= run.submitted
    assert log.runs("other") == []
    log.end_session("s")
    assert log.runs("s") == [] and log.nbytes == 0


def test_the_log_stays_within_its_bounds(monkeypatch):
    monkeypatch.setattr(run_log, "MAX_RUNS", 3)
    log = RunLog()
    for i in range(5):
        log.submitted(f"j{i}", "s", "cnn", FUNCTION, {"steps": 1})
    assert [run.id for run in log.runs("s")] == ["j2", "j3", "j4"]  # the oldest dropped
    log.observe("j0", {"step": 1, "loss": 1.0})  # a dropped run's events are ignored
    for step in range(10_000):
        log.observe("j4", {"step": step, "loss": 1.0 / (step + 1)})
    steps = [p["step"] for p in log.runs("s")[-1].points]
    assert len(steps) <= run_log.MAX_POINTS and steps[0] == 0 and steps[-1] == 9999  # thinned evenly
    monkeypatch.setattr(run_log, "MAX_SESSION_BYTES", log.nbytes // 2)
    log.submitted("j5", "s", "cnn", FUNCTION, {"steps": 1})
    assert [run.id for run in log.runs("s")] == ["j5"]  # the others took more than the session may keep
    monkeypatch.setattr(run_log, "MAX_TOTAL_BYTES", log.nbytes)
    log.submitted("k", "t", "cnn", FUNCTION, {"steps": 1})
    assert log.runs("s") == [] and len(log.runs("t")) == 1  # over all sessions too, oldest first


def test_weight_histograms_have_fixed_bins_per_layer_and_count_every_weight():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    histograms = WeightHistograms(model, bins=8)
    first = histograms()
    assert set(first) == {"0.weight", "2.weight"}  # kernels and matrices, not biases
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([[100.0, -100.0] * 2] * 2))  # far beyond the range fixed at the start
    later = histograms()
    assert later["2.weight"]["range"] == first["2.weight"]["range"]
    assert [sum(h["counts"]) for h in later.values()] == [36, 8]
    assert later["2.weight"]["counts"] == [4] + [0] * 6 + [4]  # all in the end bins


# ---- repeats ------------------------------------------------------------------------------------------------

class OneJobRunner:
    """The runner's interface as Repeats uses it, one job per session, each finishing when told."""

    def __init__(self):
        self.submitted, self.finished, self.released = [], set(), []

    def submit(self, session_id, fn, page="", /, **kwargs):
        if len(self.submitted) > len(self.finished):
            raise jobs.JobLimitError("You already have a training job running.")
        self.submitted.append((fn.__name__, page, kwargs))
        return f"job{len(self.submitted)}"

    def status(self, job_id):
        state = "done" if job_id in self.finished else "running"
        return jobs.JobStatus(state, None, None, 0, 0.0)

    def release(self, job_id):
        self.released.append(job_id)


def test_repeats_run_one_after_another_with_other_seeds():
    run = record(seed=0, repeatable=True)
    assert repeat.why_not_repeatable(run) is None
    assert repeat.other_seeds(run, 3) == [1, 2, 3] and repeat.other_seeds(record(seed=2), 3) == [1, 3, 4]
    repeats, runner = repeat.Repeats(run, [1, 2]), OneJobRunner()
    repeats.advance(runner, "s")
    repeats.advance(runner, "s")  # the first is still running: nothing more
    assert [kwargs["seed"] for _, _, kwargs in runner.submitted] == [1]
    runner.finished.add("job1")
    repeats.advance(runner, "s")
    assert runner.released == ["job1"] and not repeats.done
    runner.finished.add("job2")
    repeats.advance(runner, "s")
    assert repeats.done and runner.submitted == [
        ("noisy_descent", "cnn", {"name": "cnn-fashion", "lr": 0.1, "steps": 3, "seed": seed}) for seed in (1, 2)]


def test_repeats_wait_while_another_job_of_the_session_runs():
    runner = OneJobRunner()
    runner.submit("s", record, "cnn")  # a fine-tune started on another page
    repeats = repeat.Repeats(record(repeatable=True), [1])
    repeats.advance(runner, "s")
    assert repeats.waiting == "You already have a training job running." and repeats.seeds == [1]
    runner.finished.add("job1")
    repeats.advance(runner, "s")
    assert repeats.waiting is None and repeats.submitted == [1]


def test_runs_that_cannot_be_repeated_say_why():
    assert "does not keep" in repeat.why_not_repeatable(record())  # not repeatable: its data was not kept
    no_seed = record(function="tests.zoo.jobs_fixtures.count_steps", repeatable=True)
    assert repeat.why_not_repeatable(no_seed) == "Its job takes no seed, so another run would repeat this one exactly."
    assert repeat.why_not_repeatable(record(function="nowhere.at_all", repeatable=True)) is not None


def test_a_live_board_records_its_runs_under_its_algorithms_page():
    from models.gan.toy_game import ToyGame
    from models.mlp.playground import Playground
    from zoo.live_run import LiveRun
    boards = [object.__new__(board) for board in (Playground, ToyGame)]  # the page comes from the class alone
    assert [board.page for board in boards] + [LiveRun().page] == ["mlp", "gan", ""]
