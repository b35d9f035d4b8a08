"""Smoothed character n-gram language models: interpolated Kneser-Ney (Chen & Goodman 1999).

The baseline the character-level cards are measured against: fitted on the train split and
measured in bits per character on another. Every n-gram is a base-V number (V the alphabet
size plus one), so counting is `np.unique` and lookup is `np.searchsorted`: all six orders over
six million characters take seconds. Below the unigrams lies a uniform distribution over the
alphabet plus one symbol that stands for every character training never showed, so no character
ever gets probability zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np

MAX_ORDER = 6


@dataclass(frozen=True)
class _Level:
    """The counts of one order: raw at the model's top order, continuation counts below it."""
    keys: np.ndarray
    """sorted codes of the n-grams seen (history * size + character)"""
    counts: np.ndarray
    contexts: np.ndarray
    """sorted codes of the histories seen (key // size)"""
    totals: np.ndarray
    """per history: the sum of its counts"""
    followers: np.ndarray
    """per history: how many different characters follow it"""
    discount: float
    size: int

    @classmethod
    def from_counts(cls, keys: np.ndarray, counts: np.ndarray, size: int) -> _Level:
        contexts, first, followers = np.unique(keys // size, return_index=True, return_counts=True)
        n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
        # Ney's estimate; kept inside [0.1, 0.9] so every seen history passes some mass down
        discount = float(np.clip(n1 / max(n1 + 2 * n2, 1), 0.1, 0.9))
        return cls(keys, counts, contexts, np.add.reduceat(counts, first), followers, discount, size)

    def mix(self, history: np.ndarray, target: np.ndarray, lower: np.ndarray) -> np.ndarray:
        """P(target | history): discounted counts plus the discounted mass spread as `lower`;
        just `lower` where the history was never seen (or is too short: code -1)."""
        row = np.searchsorted(self.contexts, history).clip(max=len(self.contexts) - 1)
        seen = (self.contexts[row] == history) & (history >= 0)
        key = history * self.size + target
        at = np.searchsorted(self.keys, key).clip(max=len(self.keys) - 1)
        count = np.where(seen & (self.keys[at] == key), self.counts[at], 0)
        mixed = (np.maximum(count - self.discount, 0) + self.discount * self.followers[row] * lower) / self.totals[row]
        return np.where(seen, mixed, lower)


class NGramModel:
    """A character model of order n: P(c | the n - 1 characters before it)."""

    def __init__(self, alphabet: str, levels: list[_Level]):
        self.alphabet = alphabet
        """the training characters, sorted; id len(alphabet) stands for every other character"""
        self.levels = levels
        self.order = len(levels)
        self.size = len(alphabet) + 1
        self._points = _code_points(alphabet)

    @classmethod
    def fit(cls, text: str, order: int) -> NGramModel:
        """The order-`order` model of `text`."""
        alphabet = "".join(sorted(set(text)))
        return _models(alphabet, _ids(text, alphabet), [order])[order]

    def log2_probs(self, text: str) -> np.ndarray:
        """log2 P(text[i] | the up to n - 1 characters of `text` before it), for every i."""
        ids = self._encode(text)
        return np.log2(self._probs(self._histories(ids), ids))

    def bits_per_char(self, text: str) -> float:
        """The mean negative log2 probability of `text`'s characters: lower is better."""
        return float(-self.log2_probs(text).mean())

    def next_char_probs(self, context: str) -> np.ndarray:
        """P(c | context) for each c in `alphabet` and, last, for any character not in it; sums to 1."""
        ids = np.append(self._encode(context[max(0, len(context) - self.order + 1):]), 0)
        histories = [np.full(self.size, h[-1]) for h in self._histories(ids)]
        return self._probs(histories, np.arange(self.size))

    def _encode(self, text: str) -> np.ndarray:
        points = _code_points(text)
        at = np.searchsorted(self._points, points).clip(max=len(self._points) - 1)
        return np.where(self._points[at] == points, at, self.size - 1).astype(np.int64)

    def _histories(self, ids: np.ndarray) -> list[np.ndarray]:
        """Per order m = 0 .. n - 1: the code of the m characters before each position (-1 before the m-th)."""
        histories = [np.zeros(len(ids), dtype=np.int64)]
        for m in range(1, self.order):
            history = np.full(len(ids), -1, dtype=np.int64)
            history[m:] = ids[:-m] * self.size ** (m - 1) + histories[-1][m:]
            histories.append(history)
        return histories

    def _probs(self, histories: list[np.ndarray], target: np.ndarray) -> np.ndarray:
        p = np.full(len(target), 1.0 / self.size)
        for level, history in zip(self.levels, histories):
            p = level.mix(history, target, p)
        return p


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _ids(text: str, alphabet: str) -> np.ndarray:
    """Each character's index in the sorted `alphabet`, which must hold them all."""
    return np.searchsorted(_code_points(alphabet), _code_points(text)).astype(np.int64)


def _models(alphabet: str, ids: np.ndarray, orders: list[int]) -> dict[int, NGramModel]:
    """One model per order, sharing the counts: raw n-gram counts at a model's top order and, below
    it, continuation counts (how many different characters precede each n-gram)."""
    size, top = len(alphabet) + 1, max(orders)
    if not (1 <= min(orders) and top <= MAX_ORDER):
        raise ValueError(f"orders must lie between 1 and {MAX_ORDER}")
    if len(ids) < top:
        raise ValueError(f"an order-{top} model needs at least {top} training characters")
    if size ** top >= 2 ** 63:
        raise ValueError(f"{size - 1} different characters are too many for an order-{top} model")
    raw, codes = [], ids
    for k in range(1, top + 1):
        if k > 1:
            codes = codes[:-1] * size + ids[k - 1:]
        raw.append(np.unique(codes, return_counts=True))
    continuation = [_Level.from_counts(*np.unique(raw[k][0] % size ** k, return_counts=True), size)
                    for k in range(1, top)]
    return {n: NGramModel(alphabet, continuation[:n - 1] + [_Level.from_counts(*raw[n - 1], size)])
            for n in orders}


def compare_orders(train: str, validation: str, orders: tuple[int, ...] = tuple(range(1, MAX_ORDER + 1))) -> dict:
    """Fit every order on `train` and measure each on `validation`: bits per character per
    order, the best order and its figure, and the seconds it all took."""
    start = perf_counter()
    alphabet = "".join(sorted(set(train)))
    models = _models(alphabet, _ids(train, alphabet), list(orders))
    bits = {n: model.bits_per_char(validation) for n, model in models.items()}
    best = min(bits, key=bits.get)
    return {"bits_per_char": bits, "best_order": best, "best_bits_per_char": bits[best],
            "seconds": perf_counter() - start}
