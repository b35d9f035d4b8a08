"""Benchmark of the Transformer page's hot paths (prints figures; not a test).

    python tests/bench/bench_transformer.py

1. Generation: characters per second of `continue_prompt` (the page's Generate button) from a
   short prompt, and from a prompt that fills the context (every step then reads `context`
   characters); the page's prompt inspection (`read_prompt`: trace, attention, logit lens) timed on its own.
2. Fine-tuning throughput through `zoo.jobs` (a warm worker process running `finetune_charlm`)
   against a bare PyTorch loop on the same model, text, batch and clipping, as a ratio.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from timing import charlm_finetune_steps_per_s, median_ms  # noqa: E402  (same directory)
from models.transformer.explore import continue_prompt, read_prompt  # noqa: E402
from zoo import checkpoints  # noqa: E402
from zoo.data import text  # noqa: E402

NAME = "transformer-text"
STEPS = 100
N_CHARS = 300


def chars_per_s(model, vocab, prompt: str, n: int = N_CHARS) -> float:
    continue_prompt(model, vocab, prompt, 10)  # warm-up
    start = time.perf_counter()
    continue_prompt(model, vocab, prompt, n, temperature=0.8, seed=1)
    return n / (time.perf_counter() - start)


def main() -> None:
    model, card = checkpoints.load(NAME, "cpu")
    vocab = text.Vocab(card["vocab"])
    context = card["config"]["context"]
    print(f"{NAME}: {card['parameters']:,} parameters, context {context}, torch threads: {torch.get_num_threads()}")
    short, full = "And God said, ", text.load("validation")[:context]
    print(f"generation: {chars_per_s(model, vocab, short):.0f} chars/s from a {len(short)}-character prompt, "
          f"{chars_per_s(model, vocab, full):.0f} chars/s with the context full ({N_CHARS} characters, temperature 0.8)")
    inspect = median_ms(lambda: read_prompt(model, vocab, full, 0.8, 10, 0.95), repeats=30)
    print(f"read_prompt (trace, attention weights, logit lens) on {context} characters: {inspect:.1f} ms")
    job, bare = charlm_finetune_steps_per_s(NAME, STEPS)
    print(f"fine-tune: bare loop {bare:.2f} steps/s, through zoo.jobs {job:.2f} steps/s "
          f"= {job / bare:.2f}x; target >= 0.9x")


if __name__ == "__main__":
    main()
