"""Re-measure a shipped checkpoint's card metrics: `python -m zoo.evaluate NAME [--json]`.

`--limit N` measures on the first N held-out examples, and `--samples N` a generative card on N
generated images instead of the card's 10,000: both a quicker slice that says what it measured."""
from __future__ import annotations

import argparse
import json
import sys

from zoo import checkpoints, progress
from zoo.devices import pick_device


def is_generative(name: str) -> bool:
    """Whether NAME's recipe samples images, and so measures FID on `samples` of them."""
    return hasattr(checkpoints.recipe(name), "sample_images")


def evaluate(name: str, limit: int | None = None, samples: int | None = None) -> dict[str, dict]:
    """The card's metrics beside freshly measured ones: on the first `limit` held-out examples and
    (a generative card) `samples` generated images when given, else on what the card used."""
    device = pick_device()
    model, card = checkpoints.load(name, device)
    options = {"samples": samples} if samples is not None else {}
    measured = checkpoints.recipe(name).evaluate(model, device, limit, **options)
    return {"card": card["metrics"], "measured": measured}


def slice_description(name: str, limit: int | None, samples: int | None) -> str | None:
    """What a slice measures, in words, or None for the card's full measurement."""
    parts = ([f"the first {limit:,} held-out examples"] if limit else []) + \
            ([f"{samples:,} generated images"] if samples else [])
    return f"{name} measured on a slice: {' and '.join(parts)}; the card's figures use the full sets." if parts else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=sorted(checkpoints.registry()))
    parser.add_argument("--limit", type=int, help="measure on the first N held-out examples only")
    parser.add_argument("--samples", type=int, help="a generative card: measure on N generated images "
                        "instead of the card's 10,000 (FID is biased upward on fewer)")
    parser.add_argument("--json", action="store_true", help="print the measured metrics as one JSON object")
    parser.add_argument("--update-card", action="store_true", help="write the measured metrics into the card")
    args = parser.parse_args(argv)
    if args.samples is not None and (args.samples < 2 or not is_generative(args.name)):
        parser.error(f"--samples takes 2 or more, for a generative card only: "
                     f"{', '.join(n for n in sorted(checkpoints.registry()) if is_generative(n))}")
    if args.update_card and (args.limit or args.samples):
        parser.error("--update-card measures the whole held-out set: drop --limit and --samples")
    sliced = slice_description(args.name, args.limit, args.samples)
    if sliced:
        print(sliced, file=sys.stderr)
    progress.enable()
    result = evaluate(args.name, args.limit, args.samples)
    if args.update_card:
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
