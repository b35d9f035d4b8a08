"""Benchmark of the RNN page's hot paths (prints figures; not a test).

    python tests/bench/bench_rnn.py [--chars 1000] [--steps 200]

1. Generation speed of each shipped character model on the CPU: characters per second when
   writing `--chars` characters after a short prompt, one sequence, the state carried.
2. Fine-tuning throughput through `zoo.jobs` (a warm worker process running
   `zoo.training.char_lm.finetune_charlm`) against a bare PyTorch loop on the same model, text, batch
   and gradient clipping, as a ratio of steps per second (target >= 0.9x).
3. The forecasting job's training steps per second on the shipped CO2 series, in-process.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import charlm_finetune_steps_per_s  # noqa: E402  (same directory)
from models.rnn import forecast  # noqa: E402
from zoo import checkpoints  # noqa: E402
from zoo.training import char_lm  # noqa: E402
from zoo.data import text  # noqa: E402

MODELS = ("rnn-text", "gru-text", "lstm-text")
FINETUNE = "lstm-text"


def generation_chars_per_s(name: str, n: int) -> float:
    model, card = checkpoints.load(name, "cpu")
    vocab = text.Vocab(card["vocab"])
    char_lm.generate_text(model, vocab, "And God said", 20)  # warm-up
    start = time.perf_counter()
    char_lm.generate_text(model, vocab, "And God said", n, temperature=0.8, seed=1)
    return n / (time.perf_counter() - start)


def forecast_steps_per_s(steps: int = 200) -> float:
    series = forecast.load_default()
    times = {}
    for event in forecast.forecast_series(series.values, horizon=24, season=12, steps=steps):
        if "loss" in event:
            times[event["step"]] = time.perf_counter()
    return (steps - 10) / (times[steps] - times[10])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=1000, help="characters generated per model")
    parser.add_argument("--steps", type=int, default=200, help="fine-tuning steps timed")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    for name in MODELS:
        print(f"generation {name}: {generation_chars_per_s(name, args.chars):,.0f} characters/s")
    job, bare = charlm_finetune_steps_per_s(FINETUNE, args.steps)
    print(f"fine-tune {FINETUNE} (batch 16 x 128): bare loop {bare:.2f} steps/s, through zoo.jobs "
          f"{job:.2f} steps/s = {job / bare:.2f}x; target >= 0.9x")
    print(f"forecast (LSTM, CO2, horizon 24): {forecast_steps_per_s():.1f} training steps/s in-process")


if __name__ == "__main__":
    main()
