"""Rebuild a shipped checkpoint from scratch: `python -m zoo.train NAME`.

Training state is saved every `--save-every` steps under checkpoints/.train/, so an
interrupted run picks up where it stopped (`--fresh` starts over); a recipe that trains in
minutes may say `resumable = False`, and then every run starts over. At the end the model is
measured on held-out data and written with its card.
"""
from __future__ import annotations

import argparse
import platform
import time

import torch
from tqdm import tqdm

from zoo import checkpoints, progress
from zoo.devices import describe, pick_device


def train(name: str, device: torch.device, fresh: bool = False, save_every: int = 200,
          max_steps: int | None = None) -> dict:
    """Train NAME to completion (or `max_steps`, for smoke tests) and write its checkpoint."""
    recipe = checkpoints.recipe(name)
    resumable = getattr(recipe, "resumable", True)
    state_path = checkpoints.checkpoint_dir() / ".train" / f"{name}.pt"
    state = {} if fresh or not resumable else (checkpoints.load_training_state(state_path) or {})
    elapsed = state.get("wall_time_s", 0.0)
    model = recipe.build()
    started = time.perf_counter()
    bar = tqdm(desc=name, initial=state.get("step", 0), unit="step", dynamic_ncols=True)
    for event in recipe.fit(model, device, state):
        bar.total = event.get("total")
        bar.update(1)
        bar.set_postfix({key: f"{event[key]:{form}}" for key, form in (("loss", ".4f"), ("words_per_s", ",.0f"))
                         if key in event})
        state["wall_time_s"] = elapsed + time.perf_counter() - started
        if resumable and event["step"] % save_every == 0:
            checkpoints.save_training_state(state_path, state)
        if max_steps and event["step"] >= max_steps:
            break
    bar.close()
    if isinstance(model, torch.nn.Module):
        model.eval()
    metrics = recipe.evaluate(model, device)
    card = checkpoints.save(name, model, {
        "title": recipe.title,
        "dataset": recipe.dataset,
        "model": type(model).__name__,
        "module": type(model).__module__,
        "config": recipe.config_dict(),
        "training": vars(recipe.training) if hasattr(recipe, "training") else {},
        "steps": state.get("step", 0),
        "device": describe(device),
        "torch": torch.__version__,
        "host": platform.machine(),
        "wall_time_s": round(state.get("wall_time_s", 0.0), 1),
        "metrics": metrics,
        **(recipe.card_fields() if hasattr(recipe, "card_fields") else {}),  # e.g. a character model's vocab
        **state.get("card", {}),  # what the run itself found, e.g. an agent's learning curve
    })
    state_path.unlink(missing_ok=True)
    return card


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(checkpoints.registry()))
    parser.add_argument("--fresh", action="store_true", help="ignore a saved training state")
    parser.add_argument("--save-every", type=int, default=200, help="steps between saved states")
    parser.add_argument("--max-steps", type=int, help="stop early (smoke tests); the card says so")
    parser.add_argument("--device", help="override the picked device, e.g. cpu or cuda")
    args = parser.parse_args(argv)
    progress.enable()
    device = torch.device(args.device) if args.device else pick_device()
    card = train(args.name, device, args.fresh, args.save_every, args.max_steps)
    print(f"wrote {args.name}: {card['metrics']}")


if __name__ == "__main__":
    main()
