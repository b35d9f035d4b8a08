"""Benchmark of the GAN page (prints figures; not a test).

    python tests/bench/bench_gan.py [--seconds 8] [--repeats 3]

The toy GAN: a bare PyTorch loop (the same networks, real points, batch size and both
optimisers, one thread as the job uses; D step then G step, nothing else) against the toy game
as the page runs it: `models.gan.toy_game.train_run` in a `zoo.jobs` worker, with this process
polling it every 0.5 s the way the page's live fragment does (take in the frames, then build and
serialise the plane and the two curve figures). Steps per second of the job come from its frames
(steps and the worker's clock between the first and the last frame); figure updates per second
are the polls that found a new frame and redrew.
(The DCGAN's sampling time is in bench_generative.py beside the VAE's and diffusion's.)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import frame_steps_per_s, poll_like_a_page  # noqa: E402  (same directory)
from models.gan import figures, toy_game  # noqa: E402
from zoo import jobs, plots  # noqa: E402

TARGET = "Ring of 8 gaussians"
SETTINGS = toy_game.GANSettings()  # the page's defaults


def bare_steps_per_s(target: toy_game.Target, settings: toy_game.GANSettings, seconds: float) -> float:
    torch.set_num_threads(1)  # the job's setting
    model, g_optimizer, d_optimizer = toy_game.build(settings)
    batches = toy_game._real_batches(target.points, settings.batch_size, 0)
    model.train()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(settings.d_steps):
            real, = next(batches)
            with torch.no_grad():
                fake = model.generate(model.noise(len(real)))
            d_loss = model.discriminator_loss(model.score(real), model.score(fake))
            d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            d_optimizer.step()
        g_loss = model.generator_loss(model.score(model.generate(model.noise(len(real)))))
        g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        g_optimizer.step()
        steps += 1
    return steps / (time.perf_counter() - start)


def draw(game: toy_game.ToyGame) -> int:
    """What the page's fragment builds on each poll; returns the bytes it would send."""
    view = game.view()
    drawn = [figures.toy_game_frame(view, game.target.points, game.target.centres, toy_game.BOUNDS),
             plots.curves(game.history, ["d_loss", "g_loss"], title="losses", height=250),
             plots.curves(game.history, ["modes_covered"], title="modes", height=200)]
    return sum(len(figure.to_json()) for figure in drawn)


def job_figures(runner: jobs.JobRunner, target: toy_game.Target, seconds: float
                ) -> tuple[float, float, float, int, int]:
    """(steps/s from the frames, figure updates/s, mean ms per poll + redraw, bytes per redraw, modes covered
    at the end)."""
    game = toy_game.ToyGame(target=target)
    game.start(runner, "bench", SETTINGS, seconds=seconds)
    job = game.job_id  # the game forgets it once the run ends
    sizes, redraws, shown = [], [], [-1]

    def redraw() -> None:  # a new frame only: the page's figures change with the step
        if game.frame is not None and game.step != shown[0]:
            sizes.append(draw(game))
            redraws.append(time.perf_counter())
            shown[0] = game.step

    costs = poll_like_a_page(lambda: game.poll(runner), redraw)
    events = runner.events(job)
    updates = (len(redraws) - 1) / (redraws[-1] - redraws[0]) if len(redraws) > 1 else 0.0
    return frame_steps_per_s(events), updates, statistics.mean(costs), sum(sizes) // len(sizes), events[-1]["modes_covered"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of each kind, interleaved")
    args = parser.parse_args()
    target = toy_game.make_target(TARGET)
    runner = jobs.JobRunner(max_jobs=1)
    try:
        warm = toy_game.ToyGame(target=target)
        warm.start(runner, "bench", SETTINGS, seconds=1.0)  # the worker imports the game once
        while warm.running:
            warm.poll(runner)
            time.sleep(0.1)
        runs = []
        for _ in range(args.repeats):  # interleaved: the machine's load drifts
            runs.append((bare_steps_per_s(target, SETTINGS, args.seconds), *job_figures(runner, target, args.seconds)))
    finally:
        runner.shutdown()
    bare, job, updates, poll_ms, size, _ = (statistics.median(column) for column in zip(*runs))
    print(f"toy GAN, {TARGET}, G lr {SETTINGS.g_lr:g}, D lr {SETTINGS.d_lr:g}, {SETTINGS.d_steps} D step per G step, "
          f"batch {SETTINGS.batch_size} (medians of {args.repeats}): bare loop {bare:.0f} steps/s; page's job "
          f"{job:.0f} steps/s = {job / bare:.2f}x (ratios per run {', '.join(f'{r[1] / r[0]:.2f}' for r in runs)}); "
          f"targets >= 20 steps/s and >= 0.8x. Figure updates {updates:.2f}/s (target >= 2); each poll + redraw "
          f"{poll_ms:.0f} ms, {size / 1024:.0f} KB of figures; modes covered after each run: "
          f"{', '.join(str(r[5]) for r in runs)} of {len(target.centres)}")



if __name__ == "__main__":
    main()
