"""Re-measure a shipped checkpoint's card metrics: `python -m zoo.evaluate NAME [--json]`."""
from __future__ import annotations

import argparse
import json

from zoo import checkpoints
from zoo.devices import pick_device


def evaluate(name: str, limit: int | None = None) -> dict[str, dict]:
    """The card's metrics beside freshly measured ones."""
    device = pick_device()
    model, card = checkpoints.load(name, device)
    measured = checkpoints.recipe(name).evaluate(model, device, limit)
    return {"card": card["metrics"], "measured": measured}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=sorted(checkpoints.registry()))
    parser.add_argument("--limit", type=int, help="measure on the first N held-out examples only")
    parser.add_argument("--json", action="store_true", help="print the measured metrics as one JSON object")
    parser.add_argument("--update-card", action="store_true", help="write the measured metrics into the card")
    args = parser.parse_args(argv)
    result = evaluate(args.name, args.limit)
    if args.update_card:
        if args.limit:
            parser.error("--update-card measures the whole held-out set: drop --limit")
        checkpoints.update_card(args.name, metrics=result["measured"])
    if args.json:
        print(json.dumps(result["measured"]))
        return
    for key, value, card_value in _figures(result["measured"], result["card"]):
        shown = f"{card_value:.4f}" if isinstance(card_value, float) else "-"
        print(f"{key:>16}: measured {value:.4f}   card {shown}")


def _figures(measured: dict, card: dict, prefix: str = "") -> list[tuple[str, float, object]]:
    """(name, measured, card value) of every float metric; nested groups (e.g. a baseline's figures)
    are named `group.metric`."""
    rows = []
    for key, value in measured.items():
        if isinstance(value, dict):
            rows += _figures(value, card.get(key) if isinstance(card.get(key), dict) else {}, f"{prefix}{key}.")
        elif isinstance(value, float):
            rows.append((f"{prefix}{key}", value, card.get(key)))
    return rows


if __name__ == "__main__":
    main()
