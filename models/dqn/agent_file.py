"""A DQN agent as a file a person downloads and uploads again: safetensors (no pickle: it comes back from
anywhere) whose metadata holds what rebuilding and using it needs: the environment, the network's config
and the physics it was trained in. An upload is checked before anything is built from it.
"""
from __future__ import annotations

import dataclasses
import json

import torch
from safetensors.torch import load as load_tensors

from models.dqn.env import CARTPOLE_PHYSICS, ENV_ID, check_physics
from models.dqn.model import QNetwork, QNetworkConfig
from zoo import checkpoints
from zoo.i18n import t

KIND = "dqn-agent"
MAX_AGENT_BYTES = 25 * 2 ** 20
MAX_UNITS = 2048
"""the widest hidden layer an uploaded agent may ask for (its config is read before its weights)"""
MAX_HIDDEN_LAYERS = 8
"""the deepest network an uploaded agent may ask for: its layers are counted before any is built"""


class AgentFileError(ValueError):
    """An uploaded agent file we refuse; str() is a sentence for the person."""


def agent_bytes(q: QNetwork, physics: dict[str, float], base: str, env_id: str = ENV_ID) -> bytes:
    """The agent as safetensors with its environment, config, physics and origin in the metadata."""
    return checkpoints.state_dict_bytes(q, metadata={"kind": KIND, "env_id": env_id, "base": base,
                                         "config": json.dumps(dataclasses.asdict(q.config)),
                                         "physics": json.dumps({**CARTPOLE_PHYSICS, **physics})})


def load_agent(payload: bytes, name: str = "", device: torch.device | str = "cpu") -> tuple[QNetwork, dict]:
    """Rebuild (eval mode) the agent `agent_bytes` wrote, and its metadata (env_id, base, physics);
    raises AgentFileError with a sentence for anything else (`name`, the file's, begins it; none: "The file")."""
    name = name or t("dqn.agent.the_file")
    if len(payload) > MAX_AGENT_BYTES:
        raise AgentFileError(t("dqn.agent.too_big", name=name, size=len(payload) / 2 ** 20,
                               limit=MAX_AGENT_BYTES / 2 ** 20))
    try:
        tensors, meta = load_tensors(payload), checkpoints.read_metadata(payload)
    except Exception as error:  # untrusted bytes fail in many ways: a bad length, header JSON, dtype...
        raise AgentFileError(t("dqn.agent.unreadable", name=name, error=type(error).__name__)) from None
    if meta.get("kind") != KIND:
        raise AgentFileError(t("dqn.agent.not_an_agent", name=name, kind=KIND))
    try:
        if meta["env_id"] != ENV_ID:
            raise AgentFileError(t("dqn.agent.other_env", name=name, env_id=meta["env_id"], expected=ENV_ID))
        config = QNetworkConfig(**json.loads(meta["config"]))
        if (config.obs_dim, config.n_actions) != (4, 2) or len(config.hidden) > MAX_HIDDEN_LAYERS \
                or not all(1 <= int(h) <= MAX_UNITS for h in config.hidden):
            raise AgentFileError(t("dqn.agent.not_cartpole", name=name, inputs=config.obs_dim,
                                   outputs=config.n_actions, hidden=list(config.hidden)[:MAX_HIDDEN_LAYERS + 1],
                                   layers=MAX_HIDDEN_LAYERS, units=MAX_UNITS))
        physics = json.loads(meta["physics"])
        if set(physics) != set(CARTPOLE_PHYSICS):
            raise AgentFileError(t("dqn.agent.physics_names", name=name, names=", ".join(sorted(map(str, physics)))))
        try:
            check_physics(physics)
        except ValueError as error:  # its sentence is already the reader's
            raise AgentFileError(t("dqn.agent.bad_physics", name=name, problem=str(error))) from None
        with torch.device("meta"):
            q = QNetwork(config)  # shapes only: the memory is the file's own tensors, bounded by its size
    except AgentFileError:
        raise
    except (KeyError, TypeError, ValueError):  # missing or malformed metadata: Python's own words are not the reader's
        raise AgentFileError(t("dqn.agent.bad_metadata", name=name)) from None
    expected = {key: (tuple(value.shape), torch.float32) for key, value in q.state_dict().items()}
    if {key: (tuple(value.shape), value.dtype) for key, value in tensors.items()} != expected:
        raise AgentFileError(t("dqn.agent.weights_do_not_fit", name=name))
    q.load_state_dict(tensors, assign=True)
    for p in q.parameters():
        p.requires_grad_(False)
    return q.to(device).eval(), {"env_id": meta["env_id"], "base": meta["base"],
                                 "physics": {k: float(v) for k, v in physics.items()}}
