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
    args = parser.parse_args(argv)
    result = evaluate(args.name, args.limit)
    if args.json:
        print(json.dumps(result["measured"]))
        return
    for key, value in result["measured"].items():
        print(f"{key:>12}: measured {value:.4f}   card {result['card'].get(key, float('nan')):.4f}")


if __name__ == "__main__":
    main()
