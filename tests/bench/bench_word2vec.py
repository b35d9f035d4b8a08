"""Benchmark of the Word2Vec page's training: words per second through the page's code against
gensim called directly (prints figures; not a test). Target: at least 0.9x.

    python tests/bench/bench_word2vec.py [--epochs 50] [--repeats 3]

The text is the first ZOO_MAX_TEXT_MB (2 MB) of the corpus's train split: the largest text a
person may give the page. Every way uses the page's default settings (50 dimensions, window 5,
min count 2, 5 negatives, gensim threads as the page picks them) and is timed end to end, from
the raw text to trained vectors, tokenising included:

- direct: `Word2Vec(sentences(text), ...)`, what a person would write;
- generator: `train_vectors(text, config)` consumed in this process (one `train` call per epoch);
- page: the same job submitted to `zoo.jobs` as the page submits it, from submit to result (a warm
  worker process, events through a pipe, the vectors pickled back).

Words per second = corpus words x epochs / seconds; the median of the repeats, run in turn.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gensim.models import Word2Vec  # noqa: E402

from models.word2vec.recipe import Word2VecConfig, default_workers, sentences, train_vectors  # noqa: E402
from zoo import jobs, uploads  # noqa: E402
from zoo.data import text as text_data  # noqa: E402

PAGE_SETTINGS = Word2VecConfig(vector_size=50, window=5, min_count=2, epochs=50, negative=5)


def direct(text: str, config: Word2VecConfig) -> None:
    Word2Vec(sentences(text), **asdict(config))


def generator(text: str, config: Word2VecConfig) -> None:
    for _ in train_vectors(text, config):
        pass


def through_jobs(runner: jobs.JobRunner, text: str, config: Word2VecConfig) -> None:
    job = runner.submit("bench", train_vectors, text=text, config=config)
    while not (status := runner.status(job)).finished:
        time.sleep(0.02)
    if status.state != "done" or runner.result(job) is None:
        raise RuntimeError(f"the job ended {status.state}: {status.error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=PAGE_SETTINGS.epochs)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    text = text_data.load("train").encode("utf-8")[:uploads.limits().max_text_bytes].decode("utf-8", "ignore")
    config = replace(PAGE_SETTINGS, epochs=args.epochs, workers=default_workers())
    words = sum(map(len, sentences(text))) * config.epochs
    print(f"{len(text) / 2 ** 20:.1f} MB of text, {words // config.epochs:,} words x {config.epochs} epochs, "
          f"{config.workers} gensim threads")
    runner = jobs.JobRunner(max_jobs=1, job_seconds=3600)
    try:
        through_jobs(runner, text, replace(config, epochs=1))  # warm the worker: it imports gensim once
        ways = {"direct": lambda: direct(text, config), "generator": lambda: generator(text, config),
                "page (zoo.jobs)": lambda: through_jobs(runner, text, config)}
        seconds = {name: [] for name in ways}
        for _ in range(args.repeats):
            for name, run in ways.items():
                started = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - started)
    finally:
        runner.shutdown()
    speed = {name: words / statistics.median(times) for name, times in seconds.items()}
    for name, rate in speed.items():
        print(f"{name:>16}: {rate:>10,.0f} words/s = {rate / speed['direct']:.2f}x direct "
              f"(runs: {', '.join(f'{t:.1f} s' for t in seconds[name])})")


if __name__ == "__main__":
    main()
