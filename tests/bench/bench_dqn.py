"""Benchmark of the DQN page (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_dqn.py [--steps 5000] [--repeats 3]

Fine-tuning: environment steps per second of the page's job (`models.dqn.recipe.finetune_dqn` in a
`zoo.jobs` worker, the shipped agent in a world with a 3 m pole), with this process polling it
every half second and building the figures the page's live fragment draws, against a
bare loop on the same agent: the same environment, settings, replay buffer, loss and optimiser on
one torch thread as the job, nothing else. The job's rate comes from its own clock (`elapsed_s`)
between its first and last training event: its evaluations every 1,000 steps and its replays count
against it, its before / after measurements do not.
Rendering: milliseconds to play a 500-step greedy episode, and to build its animation and
serialise it as Streamlit sends it.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import frame_steps_per_s, poll_like_a_page  # noqa: E402  (same directory)
from models.dqn import explore, training_loop  # noqa: E402
from models.dqn.env import make_env  # noqa: E402
from models.dqn.figures import episode_figure  # noqa: E402
from models.dqn.recipe import finetune_dqn, finetune_settings  # noqa: E402
from zoo import checkpoints, jobs, plots  # noqa: E402

NAME = "dqn-cartpole"
PHYSICS = {"length": 1.5}
LR, EPSILON = 1e-3, 0.3  # the page's defaults


def bare_steps_per_s(q: torch.nn.Module, env_id: str, steps: int, seed: int = 0) -> float:
    """The fine-tune's algorithm as a plain loop: epsilon-greedy steps, bursts of gradient steps, target copies."""
    torch.set_num_threads(1)
    q = copy.deepcopy(q).requires_grad_(True)
    s = finetune_settings(LR, EPSILON)
    env = make_env(env_id, PHYSICS)
    target = copy.deepcopy(q).requires_grad_(False)
    optimizer = torch.optim.Adam(q.parameters(), lr=s.lr)
    buffer = training_loop.ReplayBuffer(s.buffer_size, 4, seed)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        with torch.no_grad():
            values = q(torch.as_tensor(obs)[None])[0].numpy()
        random_push = rng.random() < training_loop.epsilon_at(s, step, steps)
        action = int(rng.integers(2)) if random_push else int(values.argmax())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, float(reward), next_obs, terminated)
        obs = env.reset()[0] if terminated or truncated else next_obs
        if step > s.learning_starts and step % s.train_freq == 0:
            for _ in range(s.gradient_steps):
                loss = q.loss(*buffer.sample(s.batch_size), target=target, gamma=s.gamma)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(q.parameters(), s.max_grad_norm)
                optimizer.step()
        if step % s.target_update_interval == 0:
            target.load_state_dict(q.state_dict())
    return steps / (time.perf_counter() - start)


def draw(events: list[dict]) -> int:
    """What the page's live fragment builds on a poll; returns the bytes it would send."""
    figures = [plots.curves(events, [key], title=key, height=220) for key in ("episode_return", "epsilon", "loss")]
    replay = next((e["replay"] for e in reversed(events) if "replay" in e), None)
    if replay is not None:
        figures.append(episode_figure(explore.Episode(**replay), "replay", PHYSICS["length"]))
    return sum(len(figure.to_json()) for figure in figures)


def job_steps_per_s(runner: jobs.JobRunner, steps: int) -> tuple[float, float]:
    """(environment steps/s of the job by its clock, mean KB the page's redraw builds)."""
    job = runner.submit("bench", finetune_dqn, name=NAME, physics=PHYSICS, steps=steps, lr=LR, epsilon=EPSILON)
    sizes = []

    def redraw() -> None:
        if events := runner.events(job):
            sizes.append(draw(events))

    poll_like_a_page(lambda: runner.status(job), redraw)
    return frame_steps_per_s(runner.events(job)), statistics.mean(sizes) / 1024


def render_ms(q: torch.nn.Module, env_id: str, repeats: int = 5) -> tuple[float, float, float, int]:
    """(ms to play a 500-step greedy episode, ms to build its animation, ms to serialise it, its bytes)."""
    plays, builds, dumps = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        episode = explore.play_episode(q, env_id, 0)
        t1 = time.perf_counter()
        figure = episode_figure(episode, "episode")
        t2 = time.perf_counter()
        payload = figure.to_json()
        t3 = time.perf_counter()
        plays.append(t1 - t0), builds.append(t2 - t1), dumps.append(t3 - t2)
    assert episode.ret == 500, episode.ret
    return 1000 * statistics.median(plays), 1000 * statistics.median(builds), 1000 * statistics.median(dumps), len(payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000, help="environment steps of each measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of each kind, interleaved")
    args = parser.parse_args()
    q, card = checkpoints.load(NAME, "cpu")
    runner = jobs.JobRunner(max_jobs=1)
    try:
        warm = runner.submit("bench", finetune_dqn, name=NAME, physics=PHYSICS, steps=300, eval_episodes=1)
        while not runner.status(warm).finished:  # the worker imports gymnasium and the agent's code once
            time.sleep(0.1)
        runs = []
        for _ in range(args.repeats):  # interleaved: the machine's load drifts
            runs.append((bare_steps_per_s(q, card["env_id"], args.steps), *job_steps_per_s(runner, args.steps)))
    finally:
        runner.shutdown()
    bare, job, size = (statistics.median(column) for column in zip(*runs))
    ratios = [r[1] / r[0] for r in runs]  # each job against the bare loop measured just before it: the load drifts
    play, build, dump, size_bytes = render_ms(q, card["env_id"])
    print(f"DQN fine-tune, {card['env_id']} with a {2 * PHYSICS['length']:g} m pole, {args.steps:,} environment steps "
          f"(medians of {args.repeats}): bare loop {bare:,.0f} env steps/s; page's job {job:,.0f} env steps/s; job / "
          f"bare {statistics.median(ratios):.2f}x, the median of the runs' {', '.join(f'{r:.2f}' for r in ratios)} "
          f"(target >= 0.8x); "
          f"each redraw builds {size:.0f} KB of figures")
    print(f"Episode render, 500 steps: play {play:.0f} ms, build the animation {build:.0f} ms, serialise "
          f"{dump:.0f} ms, {size_bytes / 1024:.0f} KB")


if __name__ == "__main__":
    main()
