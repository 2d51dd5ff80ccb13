"""Bayes benchmarks: the compiled tokenizer and combiner against their pure twins.

Input: the SpamAssassin corpus (``../shared/corpus/spamassassin``), turned into
``TokenizerInput`` by the stdlib stand-in for the MIME walk before any clock starts; quick mode
takes every eighth message. Lines:

* ``tokenize``: whole messages per second (every field), compiled vs twin; ``agreed`` means
  identical ids for every message.
* ``tokenize_text``: body text alone, MB/s of UTF-8.
* ``classify``: microseconds per held-out message for tokenize + count lookup + combine of both
  views (as the engine classifies), after learning the other two thirds of the corpus. An
  in-memory dict stands in for the token store (the same lookup code on both sides);
  ``agreed`` means bit-identical probabilities.
* ``combine``: the combiner alone, counts already looked up.

Timing: every message (or text) is timed on its own, best of five calls, and the bests are
summed. The machine is shared with builds and test runs, and a loop over the whole set would
mostly measure who else got the cores; the per-item best is what each side needs when it runs.

Run: ``python -m bench.bench_bayes [--quick]`` from the repository root.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

from bench.harness import Result, best_time, format_table, peak_rss_mib
from pmgfast import native
from pmgfast.bayes import classifier, stdlib_email, tokenizer
from pmgfast.bayes.features import TokenizerInput

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "spamassassin"
AREA = "bayes"

Ids = array  # array('q') of token ids
Counts = tuple[array, array]


def _corpus(quick: bool) -> list[tuple[str, str, TokenizerInput]]:
    rows = [line.split("\t")[:2] for line in (CORPUS / "index.tsv").read_text().splitlines()[1:]]
    if quick:
        rows = rows[::8]
    return [
        (label, name, stdlib_email.from_bytes((CORPUS / name).read_bytes())) for label, name in rows
    ]


def _seconds(fn: Callable[[object], object], items: Sequence[object]) -> float:
    """The summed best time (of five calls) of ``fn`` on each item."""
    return sum(best_time(lambda item=item: fn(item), repeat=5, min_seconds=0.0) for item in items)


def _compare(
    name: str,
    unit: str,
    work: float,
    items: Sequence[object],
    fast: Callable[[Any], object] | None,
    slow: Callable[[Any], object],
    higher_is_better: bool = True,
    **extra: object,
) -> Result:
    """A Result for ``work`` units done by ``fast`` (compiled) and ``slow`` (twin) over
    ``items``; ``agreed`` when both give equal answers on every item."""

    def figure(fn: Callable[[Any], object]) -> float:
        seconds = _seconds(fn, items)
        return work / seconds if higher_is_better else seconds * 1e6 / work

    if fast is None:  # pure mode: the twin is the only figure
        return Result(AREA, name, unit, figure(slow), higher_is_better=higher_is_better,
                      extra={"implementation": "python", **extra})  # fmt: skip
    agreed = all(fast(item) == slow(item) for item in items)
    return Result(
        AREA, name, unit, figure(fast), baseline=figure(slow), baseline_name="pure twin",
        agreed=agreed, higher_is_better=higher_is_better, extra=dict(extra),
    )  # fmt: skip


def _tokenize(inputs: Sequence[TokenizerInput], compiled) -> Result:
    ids = sum(len(tokenizer.tokenize(f)) for f in inputs)
    return _compare(
        "tokenize", "msg/s", len(inputs), inputs,
        compiled.tokenize if compiled is not None else None, tokenizer.tokenize_py,
        messages=len(inputs), ids_per_message=round(ids / len(inputs), 1),
    )  # fmt: skip


def _tokenize_text(inputs: Sequence[TokenizerInput], compiled) -> Result:
    texts = [t for f in inputs for t in f.texts]
    megabytes = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
    return _compare(
        "tokenize_text", "MB/s", megabytes, texts,
        compiled.tokenize_text if compiled is not None else None, tokenizer.tokenize_text_py,
    )  # fmt: skip


def _lookup(table: dict[int, int], ids: Ids) -> array:
    return array("q", map(table.get, ids, repeat(0)))


def _classify(data: list[tuple[str, str, TokenizerInput]], compiled) -> list[Result]:
    spam: Counter[int] = Counter()
    ham: Counter[int] = Counter()
    nspam = nham = 0
    held_out: list[TokenizerInput] = []
    for label, name, features in data:  # the split of tests/bayes/test_classifier.py
        if zlib.crc32(name.encode()) % 3:
            (spam if label == "spam" else ham).update(tokenizer.tokenize(features))
            nspam += label == "spam"
            nham += label != "spam"
        else:
            held_out.append(features)
    spam_table, ham_table = dict(spam), dict(ham)
    params = classifier.DEFAULT_PARAMS

    def combine_py(counts: Counts) -> tuple[float, int]:
        return classifier.combine_py(counts[0], counts[1], nspam, nham, params)

    def classify_py(features: TokenizerInput) -> tuple[float, int]:
        text, header = tokenizer.tokenize_views_py(features)
        pt, ct = combine_py((_lookup(spam_table, text), _lookup(ham_table, text)))
        ph, ch = combine_py((_lookup(spam_table, header), _lookup(ham_table, header)))
        return classifier.combine_views((pt, ph)), ct + ch

    classify_c = combine_c = None
    if compiled is not None:

        def combine_c(counts: Counts) -> tuple[float, int]:
            return compiled.combine(  # type: ignore[no-any-return]
                counts[0], counts[1], nspam, nham, params.strength, params.assumed,
                params.min_strength, params.max_clues,
            )  # fmt: skip

        def classify_c(features: TokenizerInput) -> tuple[float, int]:
            text, header = compiled.tokenize_views(features)
            pt, ct = combine_c((_lookup(spam_table, text), _lookup(ham_table, text)))
            ph, ch = combine_c((_lookup(spam_table, header), _lookup(ham_table, header)))
            return classifier.combine_views((pt, ph)), ct + ch

    counts = [
        (_lookup(spam_table, ids), _lookup(ham_table, ids))
        for ids in (tokenizer.tokenize(f) for f in held_out)
    ]
    learned = {"learned_spam": nspam, "learned_ham": nham, "held_out": len(held_out)}
    return [
        _compare(
            "classify (2 views: tokenize+dict lookup+combine)", "us/msg", len(held_out), held_out,
            classify_c, classify_py, higher_is_better=False, **learned,
        ),
        _compare(
            "combine (counts given)", "us/msg", len(held_out), counts, combine_c, combine_py,
            higher_is_better=False,
        ),
    ]  # fmt: skip


def run(quick: bool) -> list[Result]:
    compiled = native.load("pmgfast.bayes._tokenizer")
    data = _corpus(quick)
    inputs = [features for _, _, features in data]
    results = [_tokenize(inputs, compiled), _tokenize_text(inputs, compiled)]
    results += _classify(data, compiled)
    results[0].extra["peak_rss_mib"] = round(peak_rss_mib(), 1)
    return results


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
