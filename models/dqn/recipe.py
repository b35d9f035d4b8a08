"""How the shipped CartPole agent is trained and measured (rl-baselines3-zoo's hyperparameters, the best
evaluated weights kept), and the page's fine-tuning job: the agent goes on learning, live, in a CartPole
whose physics the person changed. The job runs in a `zoo.jobs` worker, on the CPU (one observation a
step: a GPU only adds transfers) and on one torch thread (`zoo.devices.torch_threads`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import torch

from models.dqn.agent_file import agent_bytes
from models.dqn.env import ENV_ID, action_names, make_env
from models.dqn.explore import WORLD_EPISODES, world_return
from models.dqn.explore import play_episode
from models.dqn.model import QNetwork, QNetworkConfig
from models.dqn.training_loop import BestWeights, DQNSettings, dqn_steps, evaluate_returns, greedy_actions
from zoo import checkpoints, i18n
from zoo.devices import torch_threads
from zoo.jobs import deadline
from zoo.layers.batches import AnalysisBatch
from zoo.training.recipe import ModuleRecipe


@dataclass
class DQNTraining(DQNSettings):
    """How the shipped agent is trained: rl-baselines3-zoo's hyperparameters, a budget of
    environment steps, and a periodic greedy evaluation that keeps the best weights so far."""
    total_steps: int = 50_000
    """environment steps in all (rl-baselines3-zoo: 5e4)"""
    eval_every: int = 1000
    """environment steps between the evaluations that pick the best weights"""
    eval_episodes: int = 20
    """greedy episodes per evaluation, on seeds of their own (not the card's)"""
    seed: int = 1


SELECTION_SEED = 10_000
"""evaluations during training use seeds SELECTION_SEED.. ; the card uses CARD_SEED.."""
CARD_SEED = 1_000_000
CARD_EPISODES = 100


@dataclass
class DQNRecipe(ModuleRecipe):
    """The shipped CartPole agent: its network, how it is trained, how it is measured."""
    training: DQNTraining = field(default_factory=DQNTraining)
    dataset: str = ENV_ID
    resumable = False  # a minute of training: a replay buffer is not worth saving

    def card_fields(self) -> dict[str, Any]:
        return {"env_id": ENV_ID,
                "evaluation": f"mean return of {CARD_EPISODES} greedy episodes, reset with seeds {CARD_SEED}.."
                              f"{CARD_SEED + CARD_EPISODES - 1}; 500 is the most an episode can give",
                "note": f"the weights kept are the best of the greedy evaluations every {self.training.eval_every} "
                        f"steps ({self.training.eval_episodes} episodes on seeds {SELECTION_SEED}.., which the card "
                        "does not use); `learning_curve` holds each evaluation and the mean return of the last 10 "
                        "training episodes"}

    def fit(self, model: QNetwork, device: torch.device, state: dict[str, Any]) -> Iterator[dict]:
        """Train for `total_steps` environment steps; at the end `model` holds the best evaluated weights,
        and `state["card"]` the learning curve and the step they come from."""
        t = self.training
        torch.manual_seed(t.seed)
        model.load_state_dict(self.build(self.config_dict()).state_dict())  # weights from the seed, wherever built
        model.to(device)
        curve, recent, best = [], [], BestWeights()
        for event in dqn_steps(model, make_env(ENV_ID), t, t.total_steps, t.seed):
            if "episode_return" in event:
                recent = (recent + [event["episode_return"]])[-10:]
            if event["step"] % t.eval_every == 0:
                seeds = range(SELECTION_SEED, SELECTION_SEED + t.eval_episodes)
                event["eval_return"] = float(evaluate_returns(model, ENV_ID, seeds).mean())
                curve.append({"step": event["step"], "eval_return": event["eval_return"],
                              "episode_return": float(sum(recent) / max(len(recent), 1))})
                best.offer(model, event["eval_return"], event["step"])
            state["step"] = event["step"]
            event["total"] = t.total_steps
            yield event
        best.restore(model)
        state["card"] = {"learning_curve": curve, "kept_step": best.step, "kept_eval_return": best.score}

    def evaluate(self, model: QNetwork, device: torch.device, limit: int | None = None) -> dict[str, Any]:
        """Mean and spread of the return of CARD_EPISODES seeded greedy episodes (the first `limit`)."""
        n = min(limit or CARD_EPISODES, CARD_EPISODES)
        returns = evaluate_returns(model.to(device), ENV_ID, range(CARD_SEED, CARD_SEED + n))
        return {"mean_return": float(returns.mean()), "std_return": float(returns.std()),
                "min_return": float(returns.min()), "n": n}

    def analysis_batch(self, model: QNetwork, card: dict[str, Any], size: int,
                       first_seed: int = 40_000) -> AnalysisBatch:
        """`size` CartPole states evenly spaced over the agent's own greedy episodes (from seeds `first_seed`..,
        which neither training nor the card uses), each coloured by the action the agent takes there: the batch
        of the layer analysis (zoo.layers)."""
        episodes = [play_episode(model, ENV_ID, first_seed)]
        while sum(len(e.states) for e in episodes) < size and len(episodes) < size:
            episodes.append(play_episode(model, ENV_ID, first_seed + len(episodes)))
        states = np.concatenate([e.states for e in episodes])
        states = states[np.linspace(0, len(states) - 1, min(size, len(states))).round().astype(np.int64)]
        actions, _ = greedy_actions(model, states)
        return AnalysisBatch((torch.from_numpy(states),), actions, action_names(),
                             i18n.t("dqn.analysis_batch", n=len(states), episodes=len(episodes)))


SHIPPED = {"dqn-cartpole": DQNRecipe(QNetwork, QNetworkConfig(), title="DQN (CartPole)")}


FINETUNE_SELECTION_SEED = 30_000
"""the evaluations that pick the weights a fine-tune keeps use greedy episodes from these seeds on, others
than the page's `explore.world_return`, which measures before and after"""


def finetune_settings(lr: float, epsilon: float) -> DQNSettings:
    """The shipped recipe's hyperparameters for an agent that already balances: a shorter warm-up,
    exploration from `epsilon` down to 0.02 over the first half of the run."""
    return DQNSettings(lr=lr, learning_starts=500, exploration_initial_eps=epsilon, exploration_final_eps=0.02,
                       exploration_fraction=0.5)


def finetune_dqn(name: str, physics: dict[str, float], steps: int = 5000, lr: float = 1e-3, epsilon: float = 0.3,
                 seed: int = 0, eval_every: int = 1000, eval_episodes: int = 10, replay_seconds: float = 1.0,
                 threads: int | None = 1) -> Iterator[dict]:
    """Job: go on training shipped agent NAME (loaded by name where the job runs) for `steps` environment steps
    in CartPole with `physics`, keeping the best weights of a greedy evaluation every `eval_every` steps (the
    start's included).
    Yields {step, return_before, episodes, physics} first (before and after are `explore.world_return`,
    the page's figure for the same world); then, as they happen, {step, epsilon,
    elapsed_s (the job's clock)} with `episode_return` at an episode's end, `loss` after a training burst,
    `eval_return` after an evaluation, and about every `replay_seconds` the latest finished episode as
    `replay` (`models.dqn.explore.Episode`'s fields); {return_after, kept_step} last. Returns the kept agent's file.
    The evaluations that choose the weights use other seeds than before and after."""
    with torch_threads(threads):
        torch.manual_seed(seed)
        q, _ = checkpoints.load(name, "cpu")
        q.requires_grad_(True)
        selection_seeds = range(FINETUNE_SELECTION_SEED, FINETUNE_SELECTION_SEED + eval_episodes)
        measure = lambda: float(evaluate_returns(q, ENV_ID, selection_seeds, physics).mean())
        yield {"step": 0, "return_before": world_return(q, ENV_ID, physics), "episodes": WORLD_EPISODES,
               "physics": physics}
        best = BestWeights()
        best.offer(q, measure(), 0)
        started = time.perf_counter()
        next_replay, episode, latest = started, [], None
        for event in dqn_steps(q, make_env(ENV_ID, physics), finetune_settings(lr, epsilon), steps, seed):
            episode.append((event["obs"], event["q_values"], event["action"]))
            news = {key: event[key] for key in ("episode_return", "loss", deadline.STOPPED_EARLY) if key in event}
            if "episode_return" in event:
                latest, episode = (episode, event), []
            if event["step"] % eval_every == 0:
                news["eval_return"] = measure()
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
        yield {"step": steps, "return_after": world_return(q, ENV_ID, physics), "kept_step": best.step}
        return agent_bytes(q, physics, name)


def _replay(q: QNetwork, steps: list[tuple], end: dict) -> dict[str, Any]:
    """An episode the training loop played, as `models.dqn.explore.Episode`'s fields."""
    states, q_values, actions = (np.array(column) for column in zip(*steps))
    final_q = greedy_actions(q, end["final_obs"][None])[1]
    return {"states": np.concatenate([states, end["final_obs"][None]]).astype(np.float32),
            "q_values": np.concatenate([q_values, final_q]).astype(np.float32), "actions": actions.astype(np.int64),
            "ret": end["episode_return"], "fell": end["terminated"]}
