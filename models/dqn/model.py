"""A deep Q-network (Mnih et al. 2015, "Human-level control through deep reinforcement learning")
with the double-DQN target (van Hasselt, Guez & Silver 2016), for Gymnasium's CartPole-v1.

Q(s, a) estimates the discounted return of pushing the cart towards `a` in state s and acting
greedily afterwards. It is fitted to the bootstrapped target r + gamma * Q_target(s', a*) on
transitions replayed from a buffer; the *online* network picks a* = argmax_a Q(s', a) and the
slowly copied *target* network scores it, which curbs the overestimation of plain DQN's max.

Input: float (B, obs_dim) observations as the environment returns them (CartPole's need no
normalising); output: Q-values (B, n_actions). The loop that trains it, with its replay buffer,
is in `training_loop.py`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


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
