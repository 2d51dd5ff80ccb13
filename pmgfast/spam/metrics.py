"""Accuracy figures of a labelled run: error rates at a threshold, ranking quality, histogram.

Given each message's label (spam True) and score, :func:`measure` gives the false-positive
rate (ham at or above the threshold, over all ham), the false-negative rate (spam below it,
over all spam), accuracy, ``1 - AUC`` (the share of ham/spam pairs ranked the wrong way, ties
counting half: the Mann-Whitney statistic) and a score histogram per label.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Metrics", "auc", "measure"]


def auc(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Probability that a random spam scores above a random ham (ties count half)."""
    pairs = sorted(zip(scores, labels, strict=True), key=lambda p: p[0])
    n_spam = sum(1 for label in labels if label)
    n_ham = len(labels) - n_spam
    if not n_spam or not n_ham:
        return math.nan
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid = (i + 1 + j) / 2.0  # average 1-based rank of the tie group
        rank_sum += mid * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - n_spam * (n_spam + 1) / 2.0) / (n_spam * n_ham)


@dataclass
class Metrics:
    """The figures of one run (see the module docstring)."""

    threshold: float
    n_ham: int
    n_spam: int
    false_positives: int
    false_negatives: int
    auc: float
    histogram: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def fp_rate(self) -> float:
        return self.false_positives / self.n_ham if self.n_ham else 0.0

    @property
    def fn_rate(self) -> float:
        return self.false_negatives / self.n_spam if self.n_spam else 0.0

    @property
    def accuracy(self) -> float:
        total = self.n_ham + self.n_spam
        return 1 - (self.false_positives + self.false_negatives) / total if total else 0.0

    @property
    def one_minus_auc(self) -> float:
        return 1 - self.auc

    def summary(self) -> dict[str, float | int]:
        return {
            "threshold": self.threshold,
            "ham": self.n_ham,
            "spam": self.n_spam,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "fp_rate": self.fp_rate,
            "fn_rate": self.fn_rate,
            "accuracy": self.accuracy,
            "one_minus_auc": self.one_minus_auc,
        }


def _bucket(score: float, edges: Sequence[float]) -> str:
    for lo, hi in itertools.pairwise(edges):
        if lo <= score < hi:
            return f"[{lo:g}, {hi:g})"
    return f"< {edges[0]:g}" if score < edges[0] else f">= {edges[-1]:g}"


def measure(
    labels: Sequence[bool],
    scores: Sequence[float],
    threshold: float,
    edges: Sequence[float] = (-5, -2, 0, 1, 2, 3, 4, 5, 7, 10, 15),
) -> Metrics:
    """The figures of ``scores`` against ``labels`` at ``threshold``."""
    fp = sum(1 for label, s in zip(labels, scores, strict=True) if not label and s >= threshold)
    fn = sum(1 for label, s in zip(labels, scores, strict=True) if label and s < threshold)
    hist: dict[str, dict[str, int]] = {"ham": {}, "spam": {}}
    for label, s in zip(labels, scores, strict=True):
        key = _bucket(s, edges)
        side = hist["spam" if label else "ham"]
        side[key] = side.get(key, 0) + 1
    n_spam = sum(1 for label in labels if label)
    return Metrics(threshold, len(labels) - n_spam, n_spam, fp, fn, auc(labels, scores), hist)
