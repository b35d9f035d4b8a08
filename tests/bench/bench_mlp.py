"""Benchmark of the MLP playground's live training (prints figures; not a test).

    python tests/bench/bench_mlp.py [--seconds 10] [--browser]

For each network: a bare PyTorch loop (same net, data, batches and optimiser, one thread as
the job uses, nothing else)
against the playground as the page runs it: `models.mlp.playground.train_run` in a `zoo.jobs` worker,
with this process polling it every 0.5 s the way the page's live fragment does (take in the
frames, then build and serialise the boundary, loss and hidden-unit figures). Steps per second
of the job come from its frames (steps and the worker's clock between the first and the last
frame) and, as the page sees them, from the step counter at the first and last poll.
With --browser, the page itself in headless Chromium: the live "Step" metric read off the page.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import frame_steps_per_s, poll_like_a_page  # noqa: E402  (same directory)
from models.mlp import figures  # noqa: E402
from models.mlp import playground as pg  # noqa: E402
from zoo import jobs, plots  # noqa: E402
from zoo.data import toy2d  # noqa: E402

CASES = [  # (data set, hidden layers, activation, settings): the page's defaults first
    ("Two moons", (8, 8), "tanh", pg.TrainSettings(lr=0.03, batch_size=16)),
    ("Spiral", (16, 16, 16), "relu", pg.TrainSettings(lr=0.01, batch_size=32)),
]


def setup(data: str, hidden: tuple[int, ...], activation: str) -> pg.Playground:
    train, test = toy2d.split(toy2d.make(data, 400, 0.1), 0.3)
    return pg.Playground.create(pg.network(train, ("x", "y"), hidden, activation), train, test)


def bare_steps_per_s(playground: pg.Playground, settings: pg.TrainSettings, seconds: float) -> float:
    torch.set_num_threads(1)  # its fastest setting for a net this small, and the job's
    model, optimizer = pg.build(playground.config, settings)
    batches = pg._batches(playground.train, settings.batch_size, 0)
    model.train()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        x, y = next(batches)
        loss = model.loss(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
    return steps / (time.perf_counter() - start)


def draw(playground: pg.Playground, layer: int) -> int:
    """What the page's fragment builds on each poll; returns the bytes it would send."""
    view = playground.view(layer)
    drawn = [figures.decision_boundary(view["proba"], playground.bounds, playground.train, playground.test),
             plots.curves(playground.history, ["train_loss", "test_loss"], title="losses", height=300)]
    if "units" in view:
        drawn.append(figures.unit_maps(view["units"], signed=playground.config.activation == "tanh", title="units"))
    return sum(len(figure.to_json()) for figure in drawn)


def job_steps_per_s(runner: jobs.JobRunner, playground: pg.Playground, settings: pg.TrainSettings,
                    seconds: float) -> tuple[float, float, float, int]:
    """(steps/s from the frames, steps/s seen by the polls, mean ms per poll, bytes per redraw)."""
    playground.start(runner, "bench", settings, layer=1, seconds=seconds)
    job = playground.job_id  # the playground forgets it once the run ends
    polls, sizes = [], []

    def redraw() -> None:
        if playground.frame is not None:
            sizes.append(draw(playground, 1))
            polls.append((time.perf_counter(), playground.step))

    costs = poll_like_a_page(lambda: playground.poll(runner), redraw)
    by_polls = (polls[-1][1] - polls[0][1]) / (polls[-1][0] - polls[0][0])
    return frame_steps_per_s(runner.events(job)), by_polls, statistics.mean(costs), sum(sizes) // len(sizes)


def browser_steps_per_s(seconds: float) -> float:
    """Start the page's playground in headless Chromium and read the live Step metric."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_server

    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "server.log") as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(url)  # the entry point first: a deep link into a fresh server skips st.navigation
        page.get_by_text("Running on").wait_for()
        page.goto(f"{url}/mlp")
        start = page.get_by_role("button", name="Start", exact=True)
        start.wait_for()
        page.wait_for_timeout(3000)  # the job workers finish starting
        start.click()
        metric = page.get_by_test_id("stMetric").filter(has_text="Step").get_by_test_id("stMetricValue")
        readings, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            text = metric.inner_text(timeout=5000)
            readings.append((time.perf_counter(), int(re.sub(r"\D", "", text) or 0)))
            time.sleep(0.25)
        browser.close()
    moving = [r for r in readings if r[1] > 0]
    return (moving[-1][1] - moving[0][1]) / (moving[-1][0] - moving[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of each kind, interleaved")
    parser.add_argument("--browser", action="store_true", help="also measure through the real server and Chromium")
    args = parser.parse_args()
    runner = jobs.JobRunner(max_jobs=1)
    try:
        warm = setup(*CASES[0][:3])
        warm.start(runner, "bench", CASES[0][3], layer=1, seconds=1.0)  # the worker imports the recipe once
        while warm.running:
            warm.poll(runner)
            time.sleep(0.1)
        for data, hidden, activation, settings in CASES:
            runs = []
            for _ in range(args.repeats):  # interleaved: the machine's load drifts
                bare = bare_steps_per_s(setup(data, hidden, activation), settings, args.seconds)
                runs.append((bare, *job_steps_per_s(runner, setup(data, hidden, activation), settings, args.seconds)))
            bare, frames, polls, poll_ms, size = (statistics.median(column) for column in zip(*runs))
            print(f"{data}, hidden {hidden} {activation}, {settings.optimizer} batch {settings.batch_size} "
                  f"(medians of {args.repeats}): bare loop {bare:.0f} steps/s; page's job {frames:.0f} steps/s "
                  f"= {frames / bare:.2f}x (by the polls {polls:.0f} steps/s = {polls / bare:.2f}x; ratios per run "
                  f"{', '.join(f'{r[1] / r[0]:.2f}' for r in runs)}); target >= 0.8x. "
                  f"Each poll + redraw {poll_ms:.0f} ms, {size / 1024:.0f} KB of figures")
    finally:
        runner.shutdown()
    if args.browser:
        bare = bare_steps_per_s(setup(*CASES[0][:3]), CASES[0][3], args.seconds)
        seen = browser_steps_per_s(min(args.seconds, 25))
        print(f"as a person sees it (server + Chromium on the page, default network): {seen:.0f} steps/s "
              f"= {seen / bare:.2f}x the bare loop ({bare:.0f} steps/s)")


if __name__ == "__main__":
    main()
