"""Shipped checkpoints: safetensors weights + a JSON card, verified by sha256, found by name.

Every package in `models/` exports `SHIPPED = {name: recipe}`; the registry collects them,
so adding an algorithm never touches this file. A recipe builds the model from the card's
config (`build`), trains it from scratch (`fit`) and measures it (`evaluate`).

A model that is not a torch module (gensim's word vectors) brings its own storage
(`CustomStorage`): it writes its files, possibly several, and reads them back. The card then
lists every file's sha256 under `files`, and its `sha256` is the digest of that list in
`sha256sum` format; all of them are checked before a single byte is read back.
"""
from __future__ import annotations

import hashlib
import importlib
import io
import json
import pickle
import pkgutil
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Protocol

import torch
from safetensors.torch import load as load_safetensors_bytes, save as save_safetensors_bytes

from zoo import i18n, settings
from zoo.i18n import t


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted or unknown; the message says how to rebuild it."""


class Recipe(Protocol):
    title: str
    dataset: str

    def build(self, config: dict[str, Any] | None = None) -> torch.nn.Module: ...
    def config_dict(self) -> dict[str, Any]: ...
    def fit(self, model: torch.nn.Module, device: torch.device, state: dict[str, Any]) -> Iterator[dict]: ...
    def evaluate(self, model: torch.nn.Module, device: torch.device, limit: int | None = None) -> dict[str, float]: ...


class CustomStorage(Protocol):
    """What a recipe adds when its model is not a torch module saved as one safetensors file."""
    weights_suffix: str
    """the main file's suffix, e.g. ".kv"; other files it writes start with the main file's name"""

    def save_weights(self, model: Any, path: Path) -> list[Path]:
        """Write the model at `path` (and files beside it); return every file written."""

    def load_weights(self, path: Path, card: dict[str, Any]) -> Any:
        """Read the model back, ready to use (called only after every file's sha256 matched)."""

    def count_parameters(self, model: Any) -> int: ...


def _storage(name: str) -> CustomStorage | None:
    """The recipe of NAME if it stores its model itself, else None (safetensors)."""
    found = registry().get(name)
    return found if hasattr(found, "save_weights") and hasattr(found, "load_weights") else None


def checkpoint_dir() -> Path:
    """`ZOO_CHECKPOINT_DIR`, else the repository's checkpoints/."""
    return settings.checkpoint_dir()


@lru_cache(maxsize=1)
def registry() -> dict[str, Recipe]:
    """Every shipped checkpoint name, mapped to the recipe that builds and trains it; found by name,
    since zoo/ never imports an algorithm's package directly."""
    found: dict[str, Recipe] = {}
    for info in pkgutil.iter_modules(importlib.import_module("models").__path__):
        module = importlib.import_module(f"models.{info.name}")
        found.update(getattr(module, "SHIPPED", {}))
    return found


def recipe(name: str) -> Recipe:
    try:
        return registry()[name]
    except KeyError:
        known = ", ".join(sorted(registry())) or "none"
        raise CheckpointError(t("checkpoints.unknown", name=repr(name), known=known)) from None


def title(name: str) -> str:
    """Checkpoint NAME's title in the reader's language (checkpoints.toml's title.*), else as its recipe writes it."""
    key = f"checkpoints.title.{name}"
    return t(key) if key in i18n.catalogue() else recipe(name).title


def package(name: str) -> str:
    """The package of models/ that ships checkpoint NAME: its page is pages/<package>.py."""
    for info in pkgutil.iter_modules(importlib.import_module("models").__path__):
        if name in getattr(importlib.import_module(f"models.{info.name}"), "SHIPPED", {}):
            return info.name
    raise CheckpointError(t("checkpoints.no_package", name=repr(name)))


def rebuild_command(name: str) -> str:
    return f"python -m zoo.train {name}"


def paths(name: str) -> tuple[Path, Path]:
    """The main weights file and the card of NAME."""
    directory = checkpoint_dir()
    storage = _storage(name)
    suffix = storage.weights_suffix if storage is not None else ".safetensors"
    return directory / f"{name}{suffix}", directory / f"{name}.json"


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def files_sha256(files: dict[str, str]) -> str:
    """The digest of a {file name: sha256} listing, written as `sha256sum` prints it."""
    listing = "".join(f"{digest}  {file}\n" for file, digest in sorted(files.items()))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _verify_files(name: str, card: dict[str, Any]) -> None:
    """Check every file the card lists, and the listing's digest, against the card."""
    directory, files = checkpoint_dir(), card.get("files")
    if not isinstance(files, dict) or paths(name)[0].name not in files:
        raise CheckpointError(t("checkpoints.files_not_listed", name=name, command=rebuild_command(name)))
    for file, expected in sorted(files.items()):
        if Path(file).name != file:
            raise CheckpointError(t("checkpoints.not_a_file_name", name=name, file=repr(file), command=rebuild_command(name)))
        path = directory / file
        if not path.is_file():
            raise CheckpointError(t("checkpoints.file_missing", path=path, command=rebuild_command(name)))
        digest = file_sha256(path)
        if digest != expected:
            raise CheckpointError(t("checkpoints.corrupted", path=path, digest=digest[:12], expected=str(expected)[:12],
                                    command=rebuild_command(name)))
    if files_sha256(files) != card.get("sha256"):
        raise CheckpointError(t("checkpoints.files_do_not_match", name=name, expected=str(card.get("sha256"))[:12],
                                command=rebuild_command(name)))


def read_card(name: str) -> dict[str, Any]:
    _, card_path = paths(name)
    if not card_path.is_file():
        raise CheckpointError(t("checkpoints.card_missing", path=card_path, command=rebuild_command(name)))
    try:
        return json.loads(card_path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(t("checkpoints.card_not_json", path=card_path, error=error,
                                command=rebuild_command(name))) from None


def available() -> dict[str, dict[str, Any]]:
    """Cards of the registered checkpoints whose files are present."""
    cards = {}
    for name in sorted(registry()):
        weights, card = paths(name)
        if weights.is_file() and card.is_file():
            cards[name] = read_card(name)
    return cards


def state_dict_bytes(model: torch.nn.Module, metadata: dict[str, str] | None = None) -> bytes:
    """The model's weights as safetensors bytes (what a person downloads), with string `metadata`
    in the header for whatever rebuilding them needs (the base checkpoint, a config, class names)."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return save_safetensors_bytes(state, metadata=metadata)


def read_metadata(payload: bytes) -> dict[str, str]:
    """The string metadata in a safetensors file's JSON header (without reading its tensors)."""
    (length,) = struct.unpack("<Q", payload[:8])
    return json.loads(payload[8:8 + length]).get("__metadata__", {})


def load_state_bytes(model: torch.nn.Module, payload: bytes) -> torch.nn.Module:
    device = next(model.parameters()).device
    model.load_state_dict({k: v.to(device) for k, v in load_safetensors_bytes(payload).items()})
    return model


def load(name: str, device: torch.device | str | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The shipped model in eval mode on `device` (default: the picked device) and its card.

    A model with its own storage comes back as its recipe's `load_weights` makes it (gensim's
    KeyedVectors live on the CPU whatever `device` says)."""
    from zoo.devices import pick_device
    weights_path, _ = paths(name)
    the_recipe = recipe(name)
    card = read_card(name)
    if not weights_path.is_file():
        raise CheckpointError(t("checkpoints.file_missing", path=weights_path, command=rebuild_command(name)))
    storage = _storage(name)
    if storage is not None:
        _verify_files(name, card)
        try:
            return storage.load_weights(weights_path, card), card
        except (OSError, ValueError, KeyError, EOFError, AttributeError, pickle.UnpicklingError) as error:
            raise CheckpointError(t("checkpoints.unreadable", path=weights_path, error=error,
                                    command=rebuild_command(name))) from None
    payload = weights_path.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    if digest != card.get("sha256"):
        raise CheckpointError(t("checkpoints.corrupted", path=weights_path, digest=digest[:12],
                                expected=str(card.get("sha256"))[:12], command=rebuild_command(name)))
    model = the_recipe.build(card["config"])
    try:
        model.load_state_dict(load_safetensors_bytes(payload))
    except (RuntimeError, ValueError) as error:
        raise CheckpointError(t("checkpoints.config_mismatch", path=weights_path, error=error,
                                command=rebuild_command(name))) from None
    device = torch.device(device) if device is not None else pick_device()
    return model.to(device).eval(), card


def save(name: str, model: torch.nn.Module, card: dict[str, Any]) -> dict[str, Any]:
    """Write weights and card; fills in sha256 (and `files`, for a model with its own storage),
    parameter count and the rebuild command."""
    weights_path, card_path = paths(name)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    storage = _storage(name)
    if storage is None:
        payload = state_dict_bytes(model)
        weights_path.write_bytes(payload)
        parameters, digests = sum(p.numel() for p in model.parameters()), {}
        digest = hashlib.sha256(payload).hexdigest()
    else:
        written = storage.save_weights(model, weights_path)
        parameters = storage.count_parameters(model)
        digests = {"files": {path.name: file_sha256(path) for path in written}}
        digest = files_sha256(digests["files"])
    card = {
        "name": name,
        **card,
        "parameters": parameters,
        "train_command": f"python -m zoo.train {name}",
        "evaluate_command": f"python -m zoo.evaluate {name}",
        **digests,
        "sha256": digest,
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return card


def update_card(name: str, **fields: Any) -> dict[str, Any]:
    """Rewrite some fields of an existing card (e.g. re-measured metrics); weights untouched."""
    card = read_card(name) | fields
    paths(name)[1].write_text(json.dumps(card, indent=2) + "\n")
    return card


def save_training_state(path: Path, state: dict[str, Any]) -> None:
    """Atomically write a resumable training state (our own file, tensors and numbers only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def load_training_state(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def pack_state(model: torch.nn.Module, *optimizers: torch.optim.Optimizer) -> bytes:
    """Weights and the optimisers' per-parameter state (Adam's moments) as safetensors bytes."""
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    names = {id(p): n for n, p in model.named_parameters()}
    for optimizer in optimizers:
        for p, slots in optimizer.state.items():
            for slot, value in slots.items():
                tensors[f"optim.{names[id(p)]}.{slot}"] = torch.as_tensor(value).detach().contiguous()
    return save_safetensors_bytes(tensors)


def unpack_state(model: torch.nn.Module, payload: bytes, *optimizers: torch.optim.Optimizer) -> None:
    """Restore what `pack_state` wrote; the slots of another kind of optimiser are dropped."""
    tensors = load_safetensors_bytes(payload)
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    params = dict(model.named_parameters())
    owner = {id(p): o for o in optimizers for group in o.param_groups for p in group["params"]}
    for key, value in tensors.items():
        if key.startswith("optim."):
            name, slot = key[6:].rsplit(".", 1)
            owner[id(params[name])].state[params[name]][slot] = value
    for optimizer in optimizers:
        if any(slot not in ("step", "exp_avg", "exp_avg_sq") for s in optimizer.state.values() for slot in s) \
                or not isinstance(optimizer, torch.optim.Adam):
            optimizer.state.clear()  # a state from another optimiser: start its statistics afresh
