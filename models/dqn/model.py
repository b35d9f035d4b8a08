"""A deep Q-network (Mnih et al. 2015, "Human-level control through deep reinforcement learning")
with the double-DQN target (van Hasselt, Guez & Silver 2016), for Gymnasium's CartPole-v1.

Q(s, a) estimates the discounted return of pushing the cart towards `a` in state s and acting
greedily afterwards. It is fitted to the bootstrapped target r + gamma * Q_target(s', a*) on
transitions replayed from a buffer; the *online* network picks a* = argmax_a Q(s', a) and the
slowly copied *target* network scores it, which curbs the overestimation of plain DQN's max.

Input: float (B, obs_dim) observations as the environment returns them (CartPole's need no
normalising); output: Q-values (B, n_actions). The training loop, replay buffer and episodes
live in `zoo.rl`; hyperparameters are rl-baselines3-zoo's for CartPole-v1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from zoo.training.recipe import ModuleRecipe
from zoo.rl import BestWeights, DQNSettings, dqn_steps, evaluate_returns, make_env

ENV_ID = "CartPole-v1"


@dataclass
class QNetworkConfig:
    obs_dim: int = 4
    """cart position, cart velocity, pole angle, pole angular velocity"""
    n_actions: int = 2
    """push the cart left (0) or right (1)"""
    hidden: Sequence[int] = (256, 256)
    """units of each hidden layer"""


class QNetwork(nn.Module):
    """(B, obs_dim) observations -> (B, n_actions) Q-values, an MLP with ReLU."""

    def __init__(self, config: QNetworkConfig):
        super().__init__()
        self.config = config
        sizes = [config.obs_dim, *config.hidden]
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], config.n_actions))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)

    def loss(self, obs: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor, next_obs: torch.Tensor,
             terminated: torch.Tensor, target: nn.Module, gamma: float) -> torch.Tensor:
        """Huber loss between Q(s, a) and the double-DQN target (as rl-baselines3-zoo, whose
        clipped gradients keep early, wildly wrong targets from blowing the network up)."""
        q_taken = self(obs).gather(1, actions[:, None]).squeeze(1)  # (B,)
        return F.smooth_l1_loss(q_taken, double_dqn_target(self, target, rewards, next_obs, terminated, gamma))


@torch.no_grad()
def double_dqn_target(online: nn.Module, target: nn.Module, rewards: torch.Tensor, next_obs: torch.Tensor,
                      terminated: torch.Tensor, gamma: float) -> torch.Tensor:
    """r + gamma * Q_target(s', argmax_a Q_online(s', a)), and just r where the episode ended
    (a pole that fell; a time limit is not an end: its s' still has a future)."""
    best = online(next_obs).argmax(1, keepdim=True)  # (B, 1) chosen by the online network...
    next_q = target(next_obs).gather(1, best).squeeze(1)  # ...scored by the target network
    return rewards + gamma * (1.0 - terminated.float()) * next_q


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


SHIPPED = {"dqn-cartpole": DQNRecipe(QNetwork, QNetworkConfig(), title="DQN (CartPole)")}
