"""The DQN training loop (a generator, like every recipe's): epsilon-greedy steps in the environment,
transitions into a replay buffer, bursts of gradient steps on `q.loss` against a target network copied
every few steps; and the greedy evaluation over seeded episodes that picks the weights a run keeps.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Iterable, Iterator

import gymnasium as gym
import numpy as np
import torch

from models.dqn.env import make_env
from zoo.jobs import deadline


@dataclass
class DQNSettings:
    """The DQN algorithm's hyperparameters; the defaults are rl-baselines3-zoo's for CartPole-v1."""
    lr: float = 2.3e-3
    """Adam's learning rate"""
    batch_size: int = 64
    """transitions per gradient step"""
    buffer_size: int = 100_000
    """transitions the replay buffer holds; the oldest go first"""
    learning_starts: int = 1000
    """environment steps before the first gradient step, to fill the buffer"""
    gamma: float = 0.99
    """discount: a reward t steps ahead counts gamma**t"""
    target_update_interval: int = 10
    """environment steps between copies of the online network into the target network"""
    train_freq: int = 256
    """environment steps between bursts of training..."""
    gradient_steps: int = 128
    """...of this many gradient steps"""
    exploration_fraction: float = 0.16
    """share of the run over which epsilon falls linearly..."""
    exploration_initial_eps: float = 1.0
    """...from this chance of a random action..."""
    exploration_final_eps: float = 0.04
    """...to this one, where it stays"""
    max_grad_norm: float = 10.0
    """the gradient's norm is clipped to this (rl-baselines3-zoo's default)"""


class ReplayBuffer:
    """The last `capacity` transitions (s, a, r, s', terminated) in preallocated arrays; sampled
    uniformly, which breaks the correlation of consecutive steps that would destabilise the fit."""

    def __init__(self, capacity: int, obs_dim: int, seed: int = 0):
        self.capacity, self.size, self.next = capacity, 0, 0
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, np.bool_)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, terminated: bool) -> None:
        i = self.next
        self.obs[i], self.actions[i], self.rewards[i], self.next_obs[i], self.terminated[i] = (
            obs, action, reward, next_obs, terminated)
        self.next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
        """(obs, actions, rewards, next_obs, terminated) of `batch_size` transitions drawn with replacement."""
        index = self.rng.integers(0, self.size, batch_size)
        return tuple(torch.from_numpy(a[index]).to(device) for a in
                     (self.obs, self.actions, self.rewards, self.next_obs, self.terminated))


def epsilon_at(settings: DQNSettings, step: int, total_steps: int) -> float:
    """The chance of a random action at environment step `step` of `total_steps`."""
    progress = min(1.0, step / max(1.0, settings.exploration_fraction * total_steps))
    start, end = settings.exploration_initial_eps, settings.exploration_final_eps
    return start + progress * (end - start)


def dqn_steps(q: torch.nn.Module, env: gym.Env, settings: DQNSettings, total_steps: int,
              seed: int = 0) -> Iterator[dict]:
    """Train `q` in place for `total_steps` environment steps with epsilon-greedy exploration,
    yielding after each one {step, epsilon, obs, q_values, action}; at an episode's end also its
    `episode_return`, `episode_length`, `final_obs` and whether it `terminated` (failed); after a
    training burst the burst's mean `loss`. Near a job's time limit it stops early (`zoo.jobs.deadline`)."""
    s = settings
    device = next(q.parameters()).device
    target = copy.deepcopy(q).eval().requires_grad_(False)
    optimizer = torch.optim.Adam(q.parameters(), lr=s.lr)
    buffer = ReplayBuffer(s.buffer_size, env.observation_space.shape[0], seed)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    episode_return, episode_length = 0.0, 0
    for step in range(1, total_steps + 1):
        epsilon = epsilon_at(s, step, total_steps)
        with torch.no_grad():
            q_values = q(torch.as_tensor(obs, device=device)[None])[0].cpu().numpy()
        action = int(rng.integers(len(q_values))) if rng.random() < epsilon else int(q_values.argmax())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, float(reward), next_obs, terminated)
        event = {"step": step, "epsilon": epsilon, "obs": obs, "q_values": q_values, "action": action}
        episode_return, episode_length = episode_return + float(reward), episode_length + 1
        if terminated or truncated:
            event.update(episode_return=episode_return, episode_length=episode_length, terminated=terminated,
                         final_obs=next_obs)
            next_obs, _ = env.reset()
            episode_return, episode_length = 0.0, 0
        obs = next_obs
        if step > s.learning_starts and step % s.train_freq == 0:
            q.train()
            losses = []
            for _ in range(s.gradient_steps):
                loss = q.loss(*buffer.sample(s.batch_size, device), target=target, gamma=s.gamma)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(q.parameters(), s.max_grad_norm)
                optimizer.step()
                losses.append(loss.detach())
            q.eval()
            event["loss"] = torch.stack(losses).mean().item()
        if step % s.target_update_interval == 0:
            target.load_state_dict(q.state_dict())
        stopping = deadline.wrap_up(event, step, total_steps, "environment steps")
        yield event
        if stopping:
            break


class BestWeights:
    """The best-scoring weights offered so far: DQN can unlearn as fast as it learns, so a run keeps
    the weights of its best periodic evaluation (ties go to the later, longer-trained ones)."""

    def __init__(self) -> None:
        self.score, self.step, self.state = float("-inf"), 0, None

    def offer(self, model: torch.nn.Module, score: float, step: int) -> None:
        if score >= self.score:
            self.score, self.step, self.state = score, step, copy.deepcopy(model.state_dict())

    def restore(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self.state)


@torch.no_grad()
def greedy_actions(q: torch.nn.Module, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The greedy actions (B,) for observations (B, obs_dim), and their Q-values (B, n_actions)."""
    device = next(q.parameters()).device
    values = q(torch.as_tensor(np.asarray(obs, np.float32), device=device)).cpu().numpy()
    return values.argmax(1), values


def evaluate_returns(q: torch.nn.Module, env_id: str, seeds: Iterable[int],
                     physics: dict[str, float] | None = None) -> np.ndarray:
    """The return of one greedy episode per seed, all episodes stepped side by side (one batched
    forward pass per step), each environment reset with its seed."""
    seeds = list(seeds)
    envs = [make_env(env_id, physics) for _ in seeds]
    obs = np.stack([env.reset(seed=seed)[0] for env, seed in zip(envs, seeds)])
    returns = np.zeros(len(envs))
    alive = np.ones(len(envs), bool)
    was_training = q.training
    q.eval()
    while alive.any():
        live = np.flatnonzero(alive)
        actions, _ = greedy_actions(q, obs[live])
        for i, action in zip(live, actions):
            obs[i], reward, terminated, truncated, _ = envs[i].step(int(action))
            returns[i] += reward
            alive[i] = not (terminated or truncated)
    q.train(was_training)
    return returns
