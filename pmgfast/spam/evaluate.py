"""The evaluation: how well the engine (and Bayes alone) separates ham from spam.

Two modes, both behind ``pmgfast bayes eval``:

- **cross-validation** of one labelled corpus (``--folds 5``): the messages are dealt into
  ``k`` stratified folds with a fixed seed (:func:`pmgfast.spam.corpus.folds`); for each fold
  the Bayesian filter learns the other ``k - 1`` folds from scratch and the engine scores the
  held-out fold;
- **train/test** (``--train DIR --test DIR``): learn one labelled set, score another.

Every message is scored by the whole engine (default rules and scores, Bayes on, network
tests off, no autolearn) and by Bayes alone (its probability: both views joined, as
reported). Reported per scorer: false
positives and false negatives at the threshold (default 3, PMG's quarantine level), accuracy,
``1 - AUC`` and a score histogram. With ``--spamassassin`` the same folds are scored by
SpamAssassin (:mod:`pmgfast.spam.sa_compare`) in the same run.

Time: a message is scored as of its arrival (the newest Received date), not of today, so the
tests that compare the Date header with the arrival time work on an old corpus. Tests that
compare with the wall clock cannot, and are neutralised (:data:`NEUTRALISED`, listed in the
report with the reason).
"""

from __future__ import annotations

import json
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmgfast.spam import sa_compare
from pmgfast.spam.bayes import BayesFilter, merge_ids
from pmgfast.spam.bayes_store import MemoryTokenStore
from pmgfast.spam.corpus import Sample, folds, labelled_corpus
from pmgfast.spam.engine import SpamEngine, SpamSettings, load_rules
from pmgfast.spam.metrics import Metrics, measure
from pmgfast.spam.view import MailView

__all__ = ["NEUTRALISED", "EvalResult", "cross_validate", "format_report", "train_test"]

NEUTRALISED = {
    "DATE_STALE_30D": (
        "compares the Date header with the time of scanning; the corpus is from 2002, so every "
        "message would hit it (live mail is scanned when it arrives)"
    ),
}
Progress = Callable[[str], None]


@dataclass
class Scored:
    sample: Sample
    engine: float
    bayes: float | None
    hits: tuple[str, ...]


@dataclass
class EvalResult:
    """Scores of every message and the figures derived from them."""

    threshold: float
    folds: int
    scored: list[Scored] = field(default_factory=list)
    spamassassin: dict[str, float] | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    neutralised: dict[str, str] = field(default_factory=lambda: dict(NEUTRALISED))

    def engine_metrics(self) -> Metrics:
        return measure(
            [s.sample.spam for s in self.scored], [s.engine for s in self.scored], self.threshold
        )

    def bayes_metrics(self) -> Metrics:
        rows = [s for s in self.scored if s.bayes is not None]
        return measure(
            [s.sample.spam for s in rows],
            [s.bayes for s in rows if s.bayes is not None],
            0.9,
            edges=(0, 0.01, 0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999),
        )

    def sa_metrics(self, threshold: float | None = None) -> Metrics | None:
        if self.spamassassin is None:
            return None
        rows = [s for s in self.scored if s.sample.name in self.spamassassin]
        return measure(
            [s.sample.spam for s in rows],
            [self.spamassassin[s.sample.name] for s in rows],
            self.threshold if threshold is None else threshold,
        )

    def errors(self) -> list[Scored]:
        return [s for s in self.scored if (s.engine >= self.threshold) != s.sample.spam]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "threshold": self.threshold,
            "folds": self.folds,
            "neutralised": self.neutralised,
            "seconds": self.seconds,
            "engine": self.engine_metrics().summary(),
            "engine_histogram": self.engine_metrics().histogram,
            "bayes": self.bayes_metrics().summary(),
            "bayes_histogram": self.bayes_metrics().histogram,
        }
        sa = self.sa_metrics()
        if sa is not None:
            out["spamassassin"] = sa.summary()
            out["spamassassin_histogram"] = sa.histogram
            sa5 = self.sa_metrics(5.0)
            assert sa5 is not None
            out["spamassassin_at_5"] = sa5.summary()
        return out


Prepared = tuple[Sample, bytes, tuple["array[int]", "array[int]"]]


def _prepare(samples: Sequence[Sample], engine: SpamEngine) -> list[Prepared]:
    out = []
    for s in samples:
        raw = s.path.read_bytes()
        out.append((s, raw, BayesFilter.view_ids(engine.view(raw))))
    return out


def _arrival(raw: bytes, engine: SpamEngine) -> float | None:
    view = MailView(raw[:65536])
    if view.received_time is not None:
        return view.received_time
    return view.date[0]


def _score_set(
    engine: SpamEngine,
    bayes: BayesFilter,
    test: Sequence[Prepared],
    out: list[Scored],
) -> None:
    for sample, raw, views in test:
        verdict = bayes.classify_views(*views)
        report = engine.check(raw, now=_arrival(raw, engine), learn=False)
        out.append(
            Scored(
                sample,
                report.score,
                None if verdict is None else verdict.probability,
                tuple(h.name for h in report.hits),
            )
        )


def _engine(store: MemoryTokenStore) -> tuple[SpamEngine, BayesFilter]:
    bayes = BayesFilter(store)
    engine = SpamEngine(
        load_rules(),
        SpamSettings(use_bayes=True),
        bayes=bayes,
        neutralise=NEUTRALISED,
    )
    return engine, bayes


def _train(store: MemoryTokenStore, items: Sequence[Prepared]) -> None:
    for sample, _, views in items:
        store.learn(merge_ids(*views), sample.spam)


def cross_validate(
    root: Path,
    k: int = 5,
    seed: int = 20030228,
    threshold: float = 3.0,
    spamassassin: bool = False,
    sa_cache: Path | None = None,
    progress: Progress = lambda _: None,
    limit: int = 0,
) -> EvalResult:
    """``k``-fold cross-validation of the labelled corpus at ``root`` (module docstring).
    ``limit`` keeps every n-th message only (quick runs)."""
    samples = labelled_corpus(root)
    if limit:
        samples = samples[::limit]
    fold_list = folds(samples, k, seed)
    result = EvalResult(threshold, k)
    started = time.monotonic()
    store = MemoryTokenStore()
    engine, bayes = _engine(store)
    prepared = _prepare(samples, engine)
    by_name = {s.name: p for p, s in zip(prepared, samples, strict=True)}
    result.seconds["tokenize"] = time.monotonic() - started
    started = time.monotonic()
    for i, test in enumerate(fold_list):
        store.clear()
        _train(store, [by_name[s.name] for j, f in enumerate(fold_list) if j != i for s in f])
        _score_set(engine, bayes, [by_name[s.name] for s in test], result.scored)
        progress(f"fold {i + 1}/{k}: {len(test)} messages scored")
    result.seconds["engine"] = time.monotonic() - started
    if spamassassin:
        result.spamassassin = _spamassassin(fold_list, sa_cache, progress, result)
    return result


def _spamassassin(
    fold_list: list[list[Sample]], cache: Path | None, progress: Progress, result: EvalResult
) -> dict[str, float]:
    key = sorted(s.name for f in fold_list for s in f)
    if cache is not None and cache.exists():
        data = json.loads(cache.read_text())
        if (
            data.get("folds") == [[s.name for s in f] for f in fold_list]
            and sorted(data["scores"]) == key
        ):
            progress(f"SpamAssassin scores read from {cache}")
            result.seconds["spamassassin"] = float(data.get("seconds", 0.0))
            return {k: float(v) for k, v in data["scores"].items()}
    if not sa_compare.available():
        raise RuntimeError("SpamAssassin (sa-learn, spamd, spamc) is not installed")
    started = time.monotonic()
    scores = sa_compare.run(fold_list, progress)
    result.seconds["spamassassin"] = time.monotonic() - started
    if cache is not None:
        cache.write_text(
            json.dumps(
                {
                    "folds": [[s.name for s in f] for f in fold_list],
                    "scores": scores,
                    "seconds": result.seconds["spamassassin"],
                }
            )
        )
    return scores


def train_test(
    train_root: Path, test_root: Path, threshold: float = 3.0, progress: Progress = lambda _: None
) -> EvalResult:
    """Learn the labelled set ``train_root``, score the labelled set ``test_root``."""
    result = EvalResult(threshold, 0)
    store = MemoryTokenStore()
    engine, bayes = _engine(store)
    started = time.monotonic()
    _train(store, _prepare(labelled_corpus(train_root), engine))
    progress(f"learned {store.nspam} spam and {store.nham} ham")
    _score_set(engine, bayes, _prepare(labelled_corpus(test_root), engine), result.scored)
    result.seconds["engine"] = time.monotonic() - started
    return result


def _row(name: str, m: Metrics) -> str:
    return (
        f"{name:<22} {m.n_ham:>5} {m.n_spam:>5} {m.false_positives:>4} {m.fp_rate:>8.3%} "
        f"{m.false_negatives:>4} {m.fn_rate:>8.3%} {m.accuracy:>9.3%} {m.one_minus_auc:>9.4%}"
    )


def format_report(result: EvalResult, show_errors: int = 0) -> str:
    """The figures as text (tables, histograms, neutralised tests)."""
    lines = []
    what = f"{result.folds}-fold cross-validation" if result.folds else "train/test"
    lines.append(f"{what}, threshold {result.threshold:g} (Bayes alone: probability 0.9)")
    lines.append(
        f"{'scorer':<22} {'ham':>5} {'spam':>5} {'FP':>4} {'FP rate':>8} {'FN':>4} "
        f"{'FN rate':>8} {'accuracy':>9} {'1-AUC':>9}"
    )
    lines.append(_row("pmgfast engine", result.engine_metrics()))
    lines.append(_row("pmgfast Bayes alone", result.bayes_metrics()))
    sa = result.sa_metrics()
    if sa is not None:
        lines.append(_row(f"SpamAssassin @{result.threshold:g}", sa))
        sa5 = result.sa_metrics(5.0)
        assert sa5 is not None
        lines.append(_row("SpamAssassin @5", sa5))
    lines.append("")
    for label, m in (("pmgfast engine", result.engine_metrics()), ("SpamAssassin", sa)):
        if m is None:
            continue
        lines.append(f"score histogram, {label}:")
        keys = sorted({*m.histogram["ham"], *m.histogram["spam"]}, key=_bucket_order)
        for key in keys:
            lines.append(
                f"  {key:<12} ham {m.histogram['ham'].get(key, 0):>5}  "
                f"spam {m.histogram['spam'].get(key, 0):>5}"
            )
    lines.append("")
    lines.append("neutralised tests (score 0 in this evaluation):")
    for name, why in result.neutralised.items():
        lines.append(f"  {name}: {why}")
    if result.seconds:
        lines.append("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
    if show_errors:
        lines.append("")
        lines.append("misclassified by the engine:")
        for s in result.errors()[:show_errors]:
            bayes = "-" if s.bayes is None else f"{s.bayes:.4f}"
            lines.append(
                f"  {'spam' if s.sample.spam else 'ham '} {s.engine:6.2f} bayes={bayes} "
                f"{s.sample.name} {','.join(s.hits)}"
            )
    return "\n".join(lines)


def _bucket_order(key: str) -> float:
    text = key.lstrip("<>=[ ")
    try:
        value = float(text.split(",")[0])
    except ValueError:
        return 0.0
    return value - 0.5 if key.startswith("<") else value + 0.5 if key.startswith(">") else value
