"""Benchmark of "Which characters made it say that?" (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_text_attribution.py

Milliseconds per attribution (`zoo.explain.text.integrated_gradients`, 32 steps: 32 forward and backward
passes in one batch, and one forward pass for the two ends) of the likeliest next character after prompts
of 50 and 200 characters of the validation text, for each character model, on the CPU; the median of
REPEATS runs after two warm-ups, with the completeness gap of the last.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from zoo import checkpoints  # noqa: E402
from zoo.data import text  # noqa: E402
from zoo.explain.text import integrated_gradients  # noqa: E402

MODELS = ("rnn-text", "gru-text", "lstm-text", "transformer-text")
PROMPT_CHARS = (50, 200)
STEPS = 32
REPEATS = 7


def main() -> None:
    validation = text.load("validation")
    print(f"torch threads: {torch.get_num_threads()}, {STEPS} steps, median of {REPEATS}")
    for name in MODELS:
        model, card = checkpoints.load(name, "cpu")
        for p in model.parameters():
            p.requires_grad_(False)  # as the app shares it
        vocab = text.Vocab(card["vocab"])
        for n in PROMPT_CHARS:
            ids = vocab.encode(validation[1000:1000 + n])
            for _ in range(2):
                integrated_gradients(model, ids, steps=STEPS)
            times = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                found = integrated_gradients(model, ids, steps=STEPS)
                times.append(1000 * (time.perf_counter() - start))
            print(f"{name:17s} {n:4d} characters: {statistics.median(times):7.1f} ms "
                  f"(completeness gap {found.relative_gap:.2%})")


if __name__ == "__main__":
    main()
