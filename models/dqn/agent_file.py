"""A DQN agent as a file a person downloads and uploads again, and the page's fine-tuning job: the
agent goes on learning, live, in a CartPole whose physics the person changed.

The agent file is safetensors (no pickle: it comes back from anywhere) whose metadata holds what
rebuilding and using it needs: the environment, the network's config and the physics it was
trained in. The job runs in a `zoo.jobs` worker, on the CPU (one observation a step: a GPU only
adds transfers) and on one torch thread (`zoo.devices.torch_threads`).
"""
from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, Iterator

import numpy as np
import torch
from safetensors.torch import load as load_tensors

from models.dqn import ENV_ID, QNetwork, QNetworkConfig
from zoo import checkpoints
from zoo.devices import torch_threads
from zoo.rl import (CARTPOLE_PHYSICS, BestWeights, DQNSettings, check_physics, dqn_steps, evaluate_returns,
                    greedy_actions, make_env)

KIND = "dqn-agent"
MAX_AGENT_BYTES = 25 * 2 ** 20
MAX_UNITS = 2048
"""the widest hidden layer an uploaded agent may ask for (its config is read before its weights)"""
FINETUNE_EVAL_SEED = 20_000
"""the before / after returns of a fine-tune are measured on greedy episodes from these seeds on..."""
SELECTION_SEED = 30_000
"""...and the evaluations that pick the weights it keeps on these"""


class AgentFileError(ValueError):
    """An uploaded agent file we refuse; str() is a sentence for the person."""


def agent_bytes(q: QNetwork, physics: dict[str, float], base: str, env_id: str = ENV_ID) -> bytes:
    """The agent as safetensors with its environment, config, physics and origin in the metadata."""
    return checkpoints.state_dict_bytes(q, metadata={"kind": KIND, "env_id": env_id, "base": base,
                                         "config": json.dumps(dataclasses.asdict(q.config)),
                                         "physics": json.dumps({**CARTPOLE_PHYSICS, **physics})})


def load_agent(payload: bytes, name: str = "the file", device: torch.device | str = "cpu") -> tuple[QNetwork, dict]:
    """Rebuild (eval mode) the agent `agent_bytes` wrote, and its metadata (env_id, base, physics);
    raises AgentFileError with a sentence for anything else."""
    if len(payload) > MAX_AGENT_BYTES:
        raise AgentFileError(f"{name} is {len(payload) / 2 ** 20:.1f} MB; an agent file is at most "
                             f"{MAX_AGENT_BYTES / 2 ** 20:.0f} MB.")
    try:
        tensors, meta = load_tensors(payload), checkpoints.read_metadata(payload)
    except Exception as error:  # untrusted bytes fail in many ways: a bad length, header JSON, dtype...
        raise AgentFileError(f"{name} is not an agent file: it could not be read as safetensors "
                             f"({type(error).__name__}). Upload a file this page's Download button made.") from None
    if meta.get("kind") != KIND:
        raise AgentFileError(f"{name} holds weights but not a DQN agent from this page (no '{KIND}' mark in "
                             "its metadata). Upload a file this page's Download button made.")
    try:
        if meta["env_id"] != ENV_ID:
            raise ValueError(f"it is for {meta['env_id']}, not {ENV_ID}")
        config = QNetworkConfig(**json.loads(meta["config"]))
        if (config.obs_dim, config.n_actions) != (4, 2) or not all(1 <= int(h) <= MAX_UNITS for h in config.hidden):
            raise ValueError(f"a network of {config.obs_dim} inputs, {config.n_actions} outputs and hidden layers "
                             f"{list(config.hidden)} is not a CartPole agent")
        physics = json.loads(meta["physics"])
        if set(physics) != set(CARTPOLE_PHYSICS):
            raise ValueError(f"its physics name {sorted(physics)}")
        check_physics(physics)
        q = QNetwork(config)
    except (KeyError, TypeError, ValueError) as error:
        raise AgentFileError(f"{name} is a damaged agent file ({str(error)[:160]}).") from None
    try:
        q.load_state_dict(tensors)
    except RuntimeError:
        raise AgentFileError(f"{name} is a damaged agent file: its weights do not fit the network its "
                             "metadata describes.") from None
    for p in q.parameters():
        p.requires_grad_(False)
    return q.to(device).eval(), {"env_id": meta["env_id"], "base": meta["base"],
                                 "physics": {k: float(v) for k, v in physics.items()}}


def finetune_settings(lr: float, epsilon: float) -> DQNSettings:
    """The shipped recipe's hyperparameters for an agent that already balances: a shorter warm-up,
    exploration from `epsilon` down to 0.02 over the first half of the run."""
    return DQNSettings(lr=lr, learning_starts=500, exploration_initial_eps=epsilon, exploration_final_eps=0.02,
                       exploration_fraction=0.5)


def finetune_dqn(agent: bytes, physics: dict[str, float], steps: int = 5000, lr: float = 1e-3, epsilon: float = 0.3,
                 seed: int = 0, eval_every: int = 1000, eval_episodes: int = 10, replay_seconds: float = 1.0,
                 threads: int | None = 1) -> Iterator[dict]:
    """Job: go on training `agent` (an agent file) for `steps` environment steps in CartPole with `physics`,
    keeping the best weights of a greedy evaluation every `eval_every` steps (the start's included).
    Yields {step, return_before, eval_episodes, physics} first; then, as they happen, {step, epsilon,
    elapsed_s (the job's clock)} with `episode_return` at an episode's end, `loss` after a training burst,
    `eval_return` after an evaluation, and about every `replay_seconds` the latest finished episode as
    `replay` (`zoo.rl.Episode`'s fields); {return_after, kept_step} last. Returns the kept agent's file.
    Before and after are measured on other seeds than the evaluations that choose the weights."""
    with torch_threads(threads):
        torch.manual_seed(seed)
        q, meta = load_agent(agent)
        q.requires_grad_(True)
        measure = lambda first: float(evaluate_returns(q, ENV_ID, range(first, first + eval_episodes), physics).mean())
        yield {"step": 0, "return_before": measure(FINETUNE_EVAL_SEED), "eval_episodes": eval_episodes,
               "physics": physics}
        best = BestWeights()
        best.offer(q, measure(SELECTION_SEED), 0)
        started = time.perf_counter()
        next_replay, episode, latest = started, [], None
        for event in dqn_steps(q, make_env(ENV_ID, physics), finetune_settings(lr, epsilon), steps, seed):
            episode.append((event["obs"], event["q_values"], event["action"]))
            news = {key: event[key] for key in ("episode_return", "loss") if key in event}
            if "episode_return" in event:
                latest, episode = (episode, event), []
            if event["step"] % eval_every == 0:
                news["eval_return"] = measure(SELECTION_SEED)
                best.offer(q, news["eval_return"], event["step"])
            if not news:
                continue
            now = time.perf_counter()
            news.update(step=event["step"], epsilon=event["epsilon"], elapsed_s=now - started)
            if latest is not None and now >= next_replay:
                news["replay"] = _replay(q, *latest)
                latest, next_replay = None, now + replay_seconds
            yield news
        best.restore(q)
        q.eval()
        yield {"step": steps, "return_after": measure(FINETUNE_EVAL_SEED), "kept_step": best.step}
        return agent_bytes(q, physics, meta["base"])


def _replay(q: QNetwork, steps: list[tuple], end: dict) -> dict[str, Any]:
    """An episode the training loop played, as `zoo.rl.Episode`'s fields."""
    states, q_values, actions = (np.array(column) for column in zip(*steps))
    final_q = greedy_actions(q, end["final_obs"][None])[1]
    return {"states": np.concatenate([states, end["final_obs"][None]]).astype(np.float32),
            "q_values": np.concatenate([q_values, final_q]).astype(np.float32), "actions": actions.astype(np.int64),
            "ret": end["episode_return"], "fell": end["terminated"]}
