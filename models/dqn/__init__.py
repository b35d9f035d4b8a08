"""DQN: a deep Q-network balancing CartPole, whose physics the page lets a person change (page: pages/dqn.py)."""
from models.dqn.recipe import SHIPPED

__all__ = ["SHIPPED"]
