"""How long a text the Word2Vec page needs before its neighbours mean something (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_word2vec_text_size.py [--words 500 1000 ...] [--epochs 20 50]

For each text size, three excerpts of that many words from different places of the Wikipedia sample are
trained with the page's settings (50 dimensions, window 5, min count 2, 5 negatives, one thread) and
judged against the shipped vectors, trained on 12M words: for each of the 300 most frequent words of 3+
letters that both know, its nearest neighbour in the new vectors is ranked by the shipped vectors'
similarity among the words both know. The figure is the mean share of those words it beats: 50% is
chance, 100% means the new nearest neighbour is also the shipped vectors' nearest. Also printed: the mean
cosine similarity between two of those words (near 1: every word looks alike) and the seconds to train.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from models.word2vec.recipe import Word2VecConfig, build_model, sentences, train_epochs  # noqa: E402
from zoo import checkpoints  # noqa: E402
from zoo.data import text as text_data  # noqa: E402

PAGE_SETTINGS = Word2VecConfig(vector_size=50, window=5, min_count=2, negative=5, workers=1)
JUDGED = 300
"""words judged per excerpt"""
STARTS = (0.1, 0.4, 0.7)
"""where the excerpts start, as a share of the sample's lines"""


def excerpt(lines: list[str], start: int, words: int) -> str:
    """Whole lines from `start` on until they hold at least `words` words."""
    kept, count = [], 0
    for line in lines[start:]:
        kept.append(line)
        count += len(line.split())
        if count >= words:
            break
    return "\n".join(kept)


def judge(kv, reference) -> tuple[float, float]:
    """The mean share of words each word's new nearest neighbour beats by the reference's similarity, and the
    mean cosine similarity between two different judged words in the new vectors."""
    common = [w for w in kv.index_to_key if w in reference.key_to_index and len(w) > 2][:JUDGED]
    new = np.stack([kv.get_vector(w, norm=True) for w in common])
    old = np.stack([reference.get_vector(w, norm=True) for w in common])
    new_sim, old_sim = new @ new.T, old @ old.T
    off_diagonal = ~np.eye(len(common), dtype=bool)
    np.fill_diagonal(new_sim, -np.inf)
    np.fill_diagonal(old_sim, -np.inf)
    nearest = new_sim.argmax(1)
    beaten = [(old_sim[i] < old_sim[i, nearest[i]]).sum() / (len(common) - 2) for i in range(len(common))]
    return float(np.mean(beaten)), float((new @ new.T)[off_diagonal].mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, nargs="+", default=[500, 1000, 2000, 4000, 8000, 16000, 32000])
    parser.add_argument("--epochs", type=int, nargs="+", default=[20, 50])
    args = parser.parse_args(argv)
    reference, _ = checkpoints.load("word2vec-text")
    lines = [line for line in text_data.load_source("wikipedia").splitlines() if line.split()]
    print(f"{'words':>7} {'vocabulary':>10}  " + "  ".join(f"{e:>2} epochs: beats  cosine  seconds" for e in args.epochs))
    for words in args.words:
        results = {epochs: [] for epochs in args.epochs}
        for share in STARTS:
            corpus = sentences(excerpt(lines, int(share * len(lines)), words))
            for epochs in args.epochs:
                model = build_model(replace(PAGE_SETTINGS, epochs=epochs), corpus)
                started = time.perf_counter()
                for _ in train_epochs(model, corpus):
                    pass
                results[epochs].append((*judge(model.wv, reference), time.perf_counter() - started, len(model.wv)))
        vocabulary = np.mean([r[3] for r in results[args.epochs[0]]])
        print(f"{words:>7,} {vocabulary:>10,.0f}  " + "  ".join(
            f"{'':>10}{np.mean([r[0] for r in rows]):>6.0%}  {np.mean([r[1] for r in rows]):>6.2f}  "
            f"{np.mean([r[2] for r in rows]):>7.1f}" for rows in results.values()), flush=True)


if __name__ == "__main__":
    main()
