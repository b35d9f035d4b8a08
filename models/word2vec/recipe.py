"""Word2Vec: skip-gram with negative sampling (Mikolov et al. 2013, "Efficient Estimation of Word
Representations in Vector Space" and "Distributed Representations of Words and Phrases and their
Compositionality"), trained by gensim on the zoo's English corpus and shipped in gensim's own format.

Tokens are lower-cased runs of letters (`tokenize`): digits and punctuation are dropped, so
"The Lord's" gives "the", "lord", "s". Each line of the text (a verse, a Wikipedia paragraph) is
one sentence; a context window never crosses a line.

The vectors are measured as in the papers: top-1 accuracy of b - a + c on gensim's
questions-words.txt (3CosAdd over the whole vocabulary, the question's words excluded) and the
Spearman correlation of cosine similarity with human judgement on wordsim353.tsv, each over the
questions or pairs whose words are all in the vocabulary, with that coverage beside it. A full
`evaluate` also trains gensim's default settings (CBOW, 5 epochs) on the same sentences.

Training is a generator (`train_epochs`): one gensim `train` call per epoch, with the learning
rate falling linearly over all epochs exactly as one call would, so each epoch can report its
loss and words per second and a job can be cancelled between epochs.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from zoo import settings
from zoo.i18n import t
from zoo.data import text as text_data
from zoo.jobs import deadline

if TYPE_CHECKING:  # gensim is imported where it is used: the registry imports every package
    from gensim.models import KeyedVectors, Word2Vec

_WORD = re.compile(r"[^\W\d_]+")
MAX_SENTENCE = 1000
"""longer lines are cut into pieces of this many words (gensim silently drops words past 10,000)"""
MIN_TEXT_WORDS = 10
"""a person's text needs at least this many distinct words that reach min_count"""
USEFUL_TEXT_WORDS = 10_000
"""a shorter text gets a warning: on Wikipedia excerpts with the page's settings (50 epochs), a word's nearest
neighbour beat 56-68% of the other words by the shipped vectors' judgement below 2,000 words (50% is chance),
71% at 4,000 and 80-83% from 8,000 words on (tests/bench/bench_word2vec_text_size.py)"""


def tokenize(line: str) -> list[str]:
    """Lower-cased runs of letters (any alphabet); digits, punctuation and underscores split words."""
    return _WORD.findall(line.lower())


def sentences(text: str) -> list[list[str]]:
    """One token list per non-empty line, lines over MAX_SENTENCE words cut into pieces."""
    out = []
    for line in text.splitlines():
        words = tokenize(line)
        out.extend(words[i:i + MAX_SENTENCE] for i in range(0, len(words), MAX_SENTENCE))
    return out


@lru_cache(maxsize=1)
def corpus_sentences(split: str = "train") -> list[list[str]]:
    return sentences(text_data.load(split))


def default_workers() -> int:
    """gensim's threads for a job: ZOO_WORKER_THREADS if set (and not 0), else the cores, at most 4."""
    return settings.worker_threads() or min(4, os.cpu_count() or 1)


@dataclass
class Word2VecConfig:
    """gensim `Word2Vec` settings, passed whole: `Word2Vec(**asdict(config))`."""
    vector_size: int = 100
    """dimensions of each word vector"""
    window: int = 10
    """context words either side (gensim draws a smaller window for each word, so near words weigh more)"""
    min_count: int = 5
    """words seen fewer times are dropped before training"""
    sg: int = 1
    """1: skip-gram (predict each context word from the word); 0: CBOW (the word from its averaged context)"""
    negative: int = 10
    """noise words per real (word, context) pair: negative sampling"""
    sample: float = 1e-3
    """words more frequent than this share of the corpus are randomly skipped (subsampling)"""
    epochs: int = 25
    """passes over the corpus: a small corpus needs many (gensim's default is 5)"""
    alpha: float = 0.025
    """learning rate at the start; it falls linearly to min_alpha over all epochs"""
    min_alpha: float = 1e-4
    seed: int = 0
    workers: int = 1
    """gensim's training threads; with 1 a run rebuilds the same vectors bit for bit"""


def build_model(config: Word2VecConfig, corpus: list[list[str]]) -> Word2Vec:
    """An untrained Word2Vec with its vocabulary built from `corpus`."""
    from gensim.models import Word2Vec
    model = Word2Vec(**asdict(config))
    model.build_vocab(corpus)
    return model


def train_epochs(model: Word2Vec, corpus: list[list[str]]) -> Iterator[dict]:
    """Train `model` (vocabulary built) for its epochs, yielding after each
    {step: epoch, total, loss: per trained word, words_per_s: corpus words per second, seconds}; near a
    job's time limit it stops after an epoch (`zoo.jobs.deadline`)."""
    epochs, alpha, min_alpha = model.epochs, model.alpha, model.min_alpha
    rate = lambda e: alpha - (alpha - min_alpha) * e / epochs
    try:
        for epoch in range(epochs):
            started = time.perf_counter()
            trained, raw = model.train(corpus, total_examples=model.corpus_count, epochs=1, compute_loss=True,
                                       start_alpha=rate(epoch), end_alpha=rate(epoch + 1))
            seconds = time.perf_counter() - started
            event = {"step": epoch + 1, "total": epochs, "loss": model.get_latest_training_loss() / max(trained, 1),
                     "words_per_s": raw / seconds, "seconds": seconds}
            stopping = deadline.wrap_up(event, epoch + 1, epochs, "epochs")
            yield event
            if stopping:
                break
    finally:  # train() overwrote them with the last epoch's
        model.epochs, model.alpha, model.min_alpha = epochs, alpha, min_alpha


def vectors(model: Word2Vec | KeyedVectors) -> KeyedVectors:
    return getattr(model, "wv", model)


# ---- evaluation -----------------------------------------------------------------------------

def _test_file(name: str) -> Path:
    from gensim.test.utils import datapath
    return Path(datapath(name))


def analogy_accuracy(kv: KeyedVectors, path: Path | None = None, sample: int | None = None) -> dict[str, Any]:
    """Top-1 accuracy of b - a + c on the analogy questions (gensim's `evaluate_word_analogies`,
    case-insensitive) over those whose four words are in the vocabulary, overall and for the
    semantic and syntactic ("gram...") sections. `sample` keeps N evenly spaced questions, so
    every section is represented in a quick check."""
    path = path or _test_file("questions-words.txt")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [i for i, line in enumerate(lines) if not line.startswith(":")]
    if sample and sample < len(questions):
        keep = {questions[int(i * len(questions) / sample)] for i in range(sample)}
        lines = [line for i, line in enumerate(lines) if line.startswith(":") or i in keep]
    with tempfile.TemporaryDirectory() as tmp:
        chosen = Path(tmp) / "questions.txt"
        chosen.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _, sections = kv.evaluate_word_analogies(str(chosen), case_insensitive=True)
    asked = sum(not line.startswith(":") for line in lines)
    result: dict[str, Any] = {}
    for part, chosen_sections in (("", sections[:-1]),
                                  ("semantic_", [s for s in sections[:-1] if not s["section"].startswith("gram")]),
                                  ("syntactic_", [s for s in sections[:-1] if s["section"].startswith("gram")])):
        right = sum(len(s["correct"]) for s in chosen_sections)
        answered = right + sum(len(s["incorrect"]) for s in chosen_sections)
        result[f"{part}accuracy"] = right / answered if answered else 0.0
    right, wrong = len(sections[-1]["correct"]), len(sections[-1]["incorrect"])
    return result | {"analogy_answered": right + wrong, "analogy_questions": asked,
                     "analogy_coverage": (right + wrong) / asked if asked else 0.0}


def similarity_correlation(kv: KeyedVectors, path: Path | None = None) -> dict[str, Any]:
    """Spearman (and Pearson) correlation of cosine similarity with human scores on word pairs
    (gensim's `evaluate_word_pairs`, case-insensitive) over the pairs in the vocabulary."""
    path = path or _test_file("wordsim353.tsv")
    pairs = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#"))
    pearson, spearman, oov_percent = kv.evaluate_word_pairs(str(path), case_insensitive=True)
    coverage = 1 - oov_percent / 100
    nan_to_zero = lambda x: 0.0 if np.isnan(x) else float(x)
    return {"spearman": nan_to_zero(spearman[0]), "pearson": nan_to_zero(pearson[0]),
            "similarity_pairs": pairs, "similarity_answered": round(coverage * pairs), "similarity_coverage": coverage}


def measure(kv: KeyedVectors, sample: int | None = None) -> dict[str, Any]:
    """Analogy accuracy and word-similarity correlation, each with its coverage."""
    return analogy_accuracy(kv, sample=sample) | similarity_correlation(kv) | {
        "vocabulary": len(kv), "dimensions": kv.vector_size}


def gensim_defaults(corpus: list[list[str]]) -> dict[str, Any]:
    """Train `Word2Vec(corpus)` with gensim's default settings (one thread, so the figure is
    reproducible) and measure it: the baseline the shipped settings must beat."""
    from gensim.models import Word2Vec
    started = time.perf_counter()
    model = Word2Vec(corpus, workers=1)
    seconds = time.perf_counter() - started
    settings = (f"{'skip-gram' if model.sg else 'CBOW'}, {model.vector_size} dimensions, window {model.window}, "
                f"{model.negative} negatives, {model.epochs} epochs, min_count {model.min_count}, "
                f"sample {model.sample:g}, alpha {model.alpha:g}")
    return measure(model.wv) | {"settings": settings, "wall_time_s": round(seconds, 1)}


# ---- the shipped recipe -------------------------------------------------------------------------

@dataclass
class Word2VecRecipe:
    """A gensim Word2Vec on the corpus's train split, saved as gensim KeyedVectors (`.kv` and
    `.kv.vectors.npy`); `zoo.checkpoints` verifies both files' sha256 before loading."""
    config: Word2VecConfig
    title: str = "Word2Vec (skip-gram, negative sampling)"
    dataset: str = text_data.NAME
    weights_suffix: str = ".kv"
    resumable: bool = False
    """training takes minutes: an interrupted run starts over"""

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    def build(self, config: dict[str, Any] | None = None) -> Word2Vec:
        from gensim.models import Word2Vec
        return Word2Vec(**(self.config_dict() if config is None else config))

    def fit(self, model: Word2Vec, device: Any, state: dict[str, Any]) -> Iterator[dict]:
        corpus = corpus_sentences("train")
        model.build_vocab(corpus)
        for event in train_epochs(model, corpus):
            state["step"] = event["step"]
            yield event

    def evaluate(self, model: Word2Vec | KeyedVectors, device: Any = None, limit: int | None = None) -> dict[str, Any]:
        """The card's metrics; `limit` samples that many analogy questions and skips the defaults."""
        metrics = measure(vectors(model), sample=limit)
        if not limit:
            metrics["gensim_defaults"] = gensim_defaults(corpus_sentences("train"))
        return metrics

    def save_weights(self, model: Word2Vec | KeyedVectors, path: Path) -> list[Path]:
        for stale in path.parent.glob(f"{path.name}.*.npy"):
            stale.unlink()
        vectors(model).save(str(path), separately=["vectors"], ignore=["norms"])  # norms are recomputed on load
        return [path, *sorted(path.parent.glob(f"{path.name}.*.npy"))]

    def load_weights(self, path: Path, card: dict[str, Any]) -> KeyedVectors:
        from gensim.models import KeyedVectors
        kv = KeyedVectors.load(str(path))
        if kv.vector_size != card["config"]["vector_size"]:
            raise ValueError(f"{kv.vector_size}-dimensional vectors, the card says {card['config']['vector_size']}")
        kv.fill_norms()  # now, once: a shared model is read by many sessions
        return kv

    def count_parameters(self, model: Word2Vec | KeyedVectors) -> int:
        return int(vectors(model).vectors.size)

    def card_fields(self) -> dict[str, Any]:
        import gensim
        return {"data": text_data.splits_info(), "gensim": gensim.__version__,
                "device": f"CPU (gensim, {self.config.workers} thread{'s' if self.config.workers > 1 else ''})",
                "tokens": "lower-cased runs of letters; one sentence per line (models/word2vec/recipe.py: tokenize)",
                "metric_notes": {
                    "accuracy": "analogy accuracy (b - a + c, top 1) on questions-words.txt, answered questions only",
                    "spearman": "Spearman correlation with wordsim353.tsv, pairs in the vocabulary only",
                    "gensim_defaults": "Word2Vec(corpus) with gensim's defaults on the same sentences"}}


# ---- training on a person's text ----------------------------------------------------------------

def check_text(text: str, min_count: int) -> list[list[str]]:
    """The text's sentences, or a ValueError saying why it is too little to train on."""
    corpus = sentences(text)
    counts: dict[str, int] = {}
    for sentence in corpus:
        for word in sentence:
            counts[word] = counts.get(word, 0) + 1
    kept = sum(1 for n in counts.values() if n >= min_count)
    if kept < MIN_TEXT_WORDS:
        total = sum(counts.values())
        raise ValueError(t("word2vec.too_little_text", words=total, kept=kept, min_count=min_count,
                           needed=MIN_TEXT_WORDS))
    return corpus


def short_text_warning(corpus: list[list[str]]) -> str | None:
    """A sentence for the person when `corpus` holds fewer than USEFUL_TEXT_WORDS words, else None."""
    words = sum(map(len, corpus))
    if words >= USEFUL_TEXT_WORDS:
        return None
    return t("word2vec.short_text", words=words, useful=USEFUL_TEXT_WORDS, random_below=2000)


def train_vectors(text: str, config: Word2VecConfig) -> Iterator[dict]:
    """Job: train Word2Vec on a person's text. Yields {step: 0, total, vocabulary, words}, then
    one event per epoch (see `train_epochs`); returns the KeyedVectors."""
    corpus = check_text(text, config.min_count)
    model = build_model(config, corpus)
    yield {"step": 0, "total": config.epochs, "vocabulary": len(model.wv), "words": model.corpus_total_words}
    yield from train_epochs(model, corpus)
    return model.wv


SHIPPED = {"word2vec-text": Word2VecRecipe(Word2VecConfig())}
