"""What the Word2Vec page asks of trained vectors: example words, a word's spelling in the vocabulary,
its neighbours, analogies, the odd one out, a similarity matrix, and a 2-D or 3-D map (PCA or t-SNE)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from zoo.i18n import t
from zoo.projection import principal_axes, tsne

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

SUGGEST_FROM = 50_000
"""nearest spellings are looked for among this many most frequent words"""
MAX_BOX_WORDS = 20
"""the most words a box of several words reads (the odd one out, the map); the page names the ones dropped"""
MAX_SPELLING_HINTS = 3
"""unknown words of one box that get their nearest spellings: each costs a difflib pass over the vocabulary
(26 ms against the shipped 11,792 words on a busy 2-core machine), so 10,000 unknown words would cost minutes"""
ALIKE = 0.9
"""vectors whose typical pair of words has a cosine similarity above this have not separated: every word
looks like every other (0.99 after 50 epochs on most Wikipedia excerpts under 2,000 words; 0.2 for the
shipped vectors, 0.3-0.4 after 50 epochs on 16,000 words)"""


def find_word(kv: KeyedVectors, word: str) -> str | None:
    """The vocabulary's spelling of `word` (as typed, else lower-cased), or None if it is unknown."""
    word = word.strip()
    for candidate in (word, word.lower()):
        if candidate and candidate in kv.key_to_index:
            return candidate
    return None


def box_words(text: str, limit: int = MAX_BOX_WORDS) -> tuple[list[str], list[str]]:
    """The first `limit` different words typed in a box, and the different ones after them, which are dropped."""
    typed = list(dict.fromkeys(text.split()))
    return typed[:limit], typed[limit:]


def suggestions(kv: KeyedVectors, word: str, n: int = 5) -> list[str]:
    """The nearest spellings in the vocabulary (difflib's ratio) among its SUGGEST_FROM most frequent words."""
    return difflib.get_close_matches(word.strip().lower(), kv.index_to_key[:SUGGEST_FROM], n=n, cutoff=0.6)


def example_words(kv: KeyedVectors, n: int = 6) -> list[str]:
    """The `n` most frequent words of the vocabulary with a meaning of their own (3 letters or more, not in
    gensim's stop words), then the most frequent others: defaults that a fresh vocabulary surely holds."""
    from gensim.parsing.preprocessing import STOPWORDS
    meaningful = [w for w in kv.index_to_key[:SUGGEST_FROM] if len(w) >= 3 and w.lower() not in STOPWORDS][:n]
    return meaningful + [w for w in kv.index_to_key[:n] if w not in meaningful][:n - len(meaningful)]


def neighbours(kv: KeyedVectors, word: str, n: int = 10) -> list[tuple[str, float]]:
    """The `n` words with the highest cosine similarity to `word`, with that similarity."""
    return [(w, float(s)) for w, s in kv.most_similar(word, topn=n)]


def analogy(kv: KeyedVectors, a: str, b: str, c: str, n: int = 5) -> list[tuple[str, float]]:
    """The words nearest a - b + c (3CosAdd on unit vectors; a, b and c themselves excluded),
    e.g. king - man + woman."""
    return [(w, float(s)) for w, s in kv.most_similar(positive=[a, c], negative=[b], topn=n)]


def odd_one_out(kv: KeyedVectors, words: list[str]) -> list[tuple[str, float]]:
    """Each word's cosine similarity to the mean of the words' unit vectors, least similar
    (the odd one out, as gensim's `doesnt_match` picks it) first."""
    units = np.stack([kv.get_vector(w, norm=True) for w in words])
    mean = units.mean(0)
    scores = units @ (mean / np.linalg.norm(mean))
    return sorted(zip(words, scores.astype(float).tolist()), key=lambda pair: pair[1])


def typical_similarity(kv: KeyedVectors, words: int = 1000, pairs: int = 5000, seed: int = 0) -> tuple[float, float]:
    """The median and the 95th percentile of the cosine similarity between two different words, over
    `pairs` random pairs of the `words` most frequent: how alike any two words look to these vectors."""
    units = kv.get_normed_vectors()[:words]
    rng = np.random.default_rng(seed)
    first, second = rng.integers(0, len(units), (2, pairs))
    distinct = first != second
    cosines = (units[first[distinct]] * units[second[distinct]]).sum(1)
    if not len(cosines):
        return 0.0, 0.0
    return float(np.median(cosines)), float(np.percentile(cosines, 95))


def similarity_matrix(kv: KeyedVectors, words: list[str]) -> np.ndarray:
    """(n, n) cosine similarities between the words."""
    units = np.stack([kv.get_vector(w, norm=True) for w in words])
    return units @ units.T


@dataclass
class WordMap:
    """Points of a word map: each word, its coordinates and which chosen word brought it in."""
    words: list[str]
    coords: np.ndarray
    """(n, dims)"""
    groups: list[str]
    """the chosen word itself, or the chosen word it is a neighbour of"""
    chosen: list[bool]
    sampled_from: int | None = None
    """how many words there were when some were sampled to keep the map readable, else None"""
    explained: float | None = None
    """the share of the words' variance PCA's components keep (None for t-SNE)"""

    @property
    def note(self) -> str | None:
        """What the reader should know about the map, in the reader's language: the sampling, PCA's variance."""
        notes = []
        if self.sampled_from is not None:
            notes.append(t("word2vec.map.sampled", shown=len(self.words), total=self.sampled_from))
        if self.explained is not None:
            notes.append(t("word2vec.map.explained", dims=self.coords.shape[1], share=self.explained))
        return " ".join(notes) or None


def word_map(kv: KeyedVectors, words: list[str], n_neighbours: int = 8, method: str = "pca", dims: int = 2,
             max_points: int = 200, seed: int = 0) -> WordMap:
    """The chosen `words` (known ones) and their nearest neighbours placed in `dims` (2 or 3)
    dimensions by PCA or t-SNE of their unit vectors; over `max_points`, neighbours (then chosen
    words) are sampled and the note says so."""
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', not {method!r}")
    chosen = list(dict.fromkeys(words))
    group = {w: w for w in chosen}
    for w in chosen:
        for other, _ in (kv.most_similar(w, topn=n_neighbours) if n_neighbours else []):
            group.setdefault(other, w)
    rng = np.random.default_rng(seed)
    picked, sampled_from, explained = list(group), None, None
    if len(picked) > max_points:
        rest = [w for w in picked if w not in set(chosen)]
        if len(chosen) >= max_points:
            kept = set(rng.choice(chosen, max_points, replace=False).tolist())
        else:
            kept = set(chosen) | set(rng.choice(rest, max_points - len(chosen), replace=False).tolist())
        sampled_from, picked = len(picked), [w for w in picked if w in kept]
    units = np.stack([kv.get_vector(w, norm=True) for w in picked]).astype(np.float64)
    if method == "pca":
        axes = principal_axes(units, dims)
        coords, explained = axes.project(units), float(axes.share.sum())
    else:
        coords = tsne(units, dims, seed=seed)
    return WordMap(picked, coords, [group[w] for w in picked], [group[w] == w for w in picked], sampled_from, explained)
