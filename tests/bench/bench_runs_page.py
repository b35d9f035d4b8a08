"""Benchmark of the Runs page with 50 runs of 1,000 steps (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_runs_page.py [--runs 50] [--steps 1000] [--repeats 3]

The runs are made here as a CNN fine-tune leaves them in the run log (a training loss every step, validation loss
and accuracy and a weight histogram of 6 layers every 25), and served by a runner stand-in to the real page, driven
through the entry point with AppTest. It prints the seconds of the page's first render, of a rerun that changes the
smoothing, of one that groups the runs, and of one with the x axis by wall time (the median of --repeats each), the
bytes of the charts and the table the page sends, and the seconds and bytes of the CSV and JSON downloads.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.app.conftest import open_page  # noqa: E402
from zoo.jobs import runner as job_runner  # noqa: E402
from zoo.jobs.run_log import RunRecord  # noqa: E402
from zoo.runs import files  # noqa: E402

LAYERS = ("conv1.weight", "conv2.weight", "conv3.weight", "conv4.weight", "head.0.weight", "head.2.weight")


def make_runs(n_runs: int, steps: int) -> list[RunRecord]:
    """`n_runs` runs of `steps` steps in 5 settings (learning rates) of n_runs / 5 seeds each."""
    runs, rng = [], np.random.default_rng(0)
    for i in range(n_runs):
        lr, seed, start = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3][i % 5], i // 5, 1.7e9 + 90 * i
        points, histograms = [], []
        for step in range(steps + 1):
            point = {"step": step, "time": start + 0.1 * step, "loss": 0.5 / np.sqrt(step + 1) + rng.normal(0, 0.05)}
            if step % 25 == 0:
                point.update(validation_loss=0.3 + rng.normal(0, 0.01), accuracy=0.9 + rng.normal(0, 0.005))
                histograms.append({"step": step, "layers": {layer: {"range": (-0.5, 0.5),
                                                                    "counts": rng.integers(0, 500, 32).tolist()}
                                                            for layer in LAYERS}})
            points.append(point)
        runs.append(RunRecord(f"{i:032x}", "cnn", "zoo.training.image_classifier.finetune_classifier", "cnn-fashion",
                              {"name": "cnn-fashion", "lr": lr, "steps": steps, "n_test": 2000, "seed": seed}, "done",
                              start - 2, start - 1, start + 0.1 * steps + 3, None, tuple(points),
                              {"loss": points[-1]["loss"], "accuracy_after": 0.91}, tuple(histograms[-64:]), True))
    return runs


class StandIn:
    """The runner as the Runs page reads it: this session's runs, nothing running."""
    job_seconds = 300.0

    def __init__(self, runs: list[RunRecord]):
        self._runs = runs

    def runs(self, session_id):
        return self._runs

    def cancel_session(self, session_id):
        pass


def sent_bytes(at) -> tuple[int, int]:
    """The bytes of the page's charts (Plotly JSON) and of its table (Arrow), as they go to the browser."""
    charts = sum(len(chart.proto.spec) for chart in at.get("plotly_chart"))
    table = sum(frame.proto.ByteSize() for frame in at.dataframe)
    return charts, table


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = make_runs(args.runs, args.steps)
    job_runner._runner = StandIn(runs)
    print(f"{args.runs} runs of {args.steps:,} steps ({sum(len(r.points) for r in runs):,} points)")

    first = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        at = open_page("pages/runs.py", timeout=600)
        first.append(time.perf_counter() - start)
    assert not at.exception and not at.error
    at.multiselect(key="runs_hidden").set_value([]).run()
    charts, table = sent_bytes(at)
    print(f"first render (entry point and page, {len(first)}x): median {statistics.median(first):.2f} s")
    print(f"all {args.runs} runs drawn: {len(at.get('plotly_chart'))} charts, {charts / 1e6:.2f} MB of chart JSON, "
          f"table {table / 1e3:.0f} KB")
    for name, change in [("smoothing 0.9", lambda: at.slider(key="runs_smoothing").set_value(0.9).run()),
                         ("grouped", lambda: at.toggle(key="runs_group").set_value(True).run()),
                         ("ungrouped, wall time", lambda: (at.toggle(key="runs_group").set_value(False),
                                                           at.radio(key="runs_x").set_value("wall").run()))]:
        seconds = [timed(change)] + [timed(at.run) for _ in range(args.repeats - 1)]
        assert not at.exception, at.exception
        charts, table = sent_bytes(at)
        print(f"rerun, {name}: median {statistics.median(seconds):.2f} s ({', '.join(f'{s:.2f}' for s in seconds)}); "
              f"charts {charts / 1e6:.2f} MB")
    for write, name in ((files.to_csv, "CSV"), (files.to_json, "JSON")):
        start = time.perf_counter()
        data = write(runs)
        wrote = time.perf_counter() - start
        start = time.perf_counter()
        files.read_runs(data, f"runs.{name.lower()}")
        print(f"{name}: {len(data) / 1e6:.1f} MB, written in {wrote:.2f} s, read back in "
              f"{time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
