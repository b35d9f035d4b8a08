"""Gymnasium's CartPole-v1 with physics a person may change: the pole's length and mass, the cart's
mass, gravity and the push."""
from __future__ import annotations

import gymnasium as gym

from zoo.i18n import t

ENV_ID = "CartPole-v1"
CARTPOLE_PHYSICS = {"gravity": 9.8, "masscart": 1.0, "masspole": 0.1, "length": 0.5, "force_mag": 10.0}
"""CartPole's constants as Gymnasium sets them; `length` is half the pole's length"""
ACTIONS = ("left", "right")
"""CartPole's actions by index, as codes: push the cart left (0) or right (1)"""


def action_names() -> tuple[str, ...]:
    """The actions by index as the reader's language names them ("push left", "push right")."""
    return tuple(t(f"dqn.action.{code}") for code in ACTIONS)


def make_env(env_id: str, physics: dict[str, float] | None = None) -> gym.Env:
    """A Gymnasium environment with its time limit, and CartPole's physics changed as `physics` says."""
    env = gym.make(env_id, disable_env_checker=True)
    if physics:
        set_physics(env, physics)
    return env


def check_physics(physics: dict[str, float]) -> None:
    """Raise ValueError unless `physics` sets only CartPole's constants, each to a number in (0, 1000]; its
    sentence is for a reader (an uploaded agent file's physics are checked here)."""
    unknown = set(physics) - set(CARTPOLE_PHYSICS)
    if unknown:
        raise ValueError(t("dqn.physics_error.unknown", unknown=", ".join(sorted(map(str, unknown))),
                           known=", ".join(CARTPOLE_PHYSICS)))
    bad = [key for key, value in physics.items() if not isinstance(value, (int, float)) or not 0 < value <= 1000]
    if bad:
        raise ValueError(t("dqn.physics_error.out_of_range", names=", ".join(sorted(bad))))


def set_physics(env: gym.Env, physics: dict[str, float]) -> None:
    """Set CartPole's constants (keys of CARTPOLE_PHYSICS) and the two it derives from them."""
    check_physics(physics)
    cartpole = env.unwrapped
    for key, value in physics.items():
        setattr(cartpole, key, float(value))
    cartpole.total_mass = cartpole.masspole + cartpole.masscart
    cartpole.polemass_length = cartpole.masspole * cartpole.length
