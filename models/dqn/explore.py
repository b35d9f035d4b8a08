"""What the DQN page computes: episodes played and recorded step by step for replaying, an agent's mean
return in a world (one set of episodes for every such figure), and its Q-values over a grid of CartPole states."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.dqn.env import make_env
from models.dqn.training_loop import evaluate_returns, greedy_actions

WORLD_SEED = 20_000
"""an agent's mean return in a world is measured on greedy episodes reset with seeds WORLD_SEED..."""
WORLD_EPISODES = 20
"""...this many of them, wherever the page shows one (before and after a fine-tune too), so that two
figures for the same agent in the same world are the same number"""


@dataclass
class Episode:
    """One episode, step by step, for replaying it."""
    states: np.ndarray
    """(T + 1, obs_dim) every state, the final one included"""
    q_values: np.ndarray
    """(T + 1, n_actions) the agent's Q-values in each state"""
    actions: np.ndarray
    """(T,) the action taken in each state but the last"""
    ret: float
    """the return: CartPole gives 1 a step"""
    fell: bool
    """whether it ended by failing (pole or cart out of bounds) rather than at the time limit"""


def play_episode(q: torch.nn.Module, env_id: str, seed: int, physics: dict[str, float] | None = None,
                 policy: str = "greedy") -> Episode:
    """Play one episode from the reset of `seed`, acting greedily on `q` or (`policy="random"`)
    uniformly at random; the Q-values are `q`'s either way."""
    if policy not in ("greedy", "random"):
        raise ValueError(f"policy must be 'greedy' or 'random', not {policy!r}")
    env = make_env(env_id, physics)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    states, q_values, actions, ret, done, terminated = [obs], [], [], 0.0, False, False
    while not done:
        greedy, values = greedy_actions(q, obs[None])
        q_values.append(values[0])
        action = int(greedy[0]) if policy == "greedy" else int(rng.integers(env.action_space.n))
        obs, reward, terminated, truncated, _ = env.step(action)
        states.append(obs)
        actions.append(action)
        ret += float(reward)
        done = terminated or truncated
    q_values.append(greedy_actions(q, obs[None])[1][0])
    return Episode(np.array(states, np.float32), np.array(q_values, np.float32), np.array(actions, np.int64),
                   ret, bool(terminated))


def world_return(q: torch.nn.Module, env_id: str, physics: dict[str, float] | None = None) -> float:
    """The mean return of `q`'s WORLD_EPISODES greedy episodes from seeds WORLD_SEED.. in `physics`."""
    return float(evaluate_returns(q, env_id, range(WORLD_SEED, WORLD_SEED + WORLD_EPISODES), physics).mean())


@torch.no_grad()
def q_grid(q: torch.nn.Module, thetas: np.ndarray, theta_dots: np.ndarray, x: float = 0.0,
           x_dot: float = 0.0) -> np.ndarray:
    """Q-values (len(theta_dots), len(thetas), n_actions) of CartPole states with the cart at `x`
    moving at `x_dot`, over a grid of pole angles and angular velocities."""
    angle, velocity = np.meshgrid(thetas, theta_dots)
    states = np.stack([np.full_like(angle, x), np.full_like(angle, x_dot), angle, velocity], -1)
    _, values = greedy_actions(q, states.reshape(-1, 4))
    return values.reshape(*angle.shape, -1)
