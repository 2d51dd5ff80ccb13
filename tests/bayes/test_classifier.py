"""The chi-squared combiner: Robinson's f(w), Fisher's combination, clue selection, bands,
bit-identical compiled and pure twins, and a train/test run over the SpamAssassin corpus."""

from __future__ import annotations

import math
import zlib
from array import array
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmgfast import native
from pmgfast.bayes import classifier, tokenizer
from pmgfast.bayes.classifier import (
    DEFAULT_PARAMS,
    Band,
    ChiSquaredParams,
    chi2q,
    classify,
    combine_py,
    select_clues,
    token_probability,
)

counts = st.integers(min_value=-5, max_value=2**62)
small = st.integers(min_value=0, max_value=10_000)


def test_unknown_token_is_the_assumed_probability():
    assert token_probability(0, 0, 100, 100) == DEFAULT_PARAMS.assumed == 0.5


def test_one_sighting_moves_half_way_with_strength_one():
    # p = 1 (seen only in spam), n = 1: (1 * 0.5 + 1 * 1) / (1 + 1)
    one = ChiSquaredParams(strength=1.0)
    assert token_probability(1, 0, 10, 10, one) == 0.75
    assert token_probability(0, 1, 10, 10, one) == 0.25


def test_default_strength_is_spambayes():
    # s = 0.45: (0.45 * 0.5 + 1) / 1.45
    assert DEFAULT_PARAMS.strength == 0.45
    assert token_probability(1, 0, 10, 10) == pytest.approx(1.225 / 1.45)


def test_ratios_use_the_learned_totals():
    # in 10 % of spam and 10 % of ham: neutral, however unequal the totals
    assert token_probability(100, 10, 1000, 100) == pytest.approx(0.5)


@given(small, small, st.integers(1, 10_000), st.integers(1, 10_000))
def test_probability_is_symmetric_and_shrunk_towards_the_prior(s, h, nspam, nham):
    f = token_probability(s, h, nspam, nham)
    assert f == pytest.approx(1.0 - token_probability(h, s, nham, nspam))
    if s + h:
        p = (s / nspam) / (s / nspam + h / nham)  # the raw ratio estimate
        assert min(p, 0.5) - 1e-12 <= f <= max(p, 0.5) + 1e-12
        # the same ratio seen twice as often: closer to p
        assert abs(token_probability(2 * s, 2 * h, nspam, nham) - p) <= abs(f - p) + 1e-12


@given(counts, counts, st.integers(1, 2**62), st.integers(1, 2**62))
def test_probability_stays_strictly_inside_0_1(s, h, nspam, nham):
    f = token_probability(s, h, nspam, nham)
    assert classifier.PROB_MIN <= f <= classifier.PROB_MAX


@given(st.floats(min_value=0, max_value=1e4))
def test_chi2q_with_two_degrees_is_exp(x2):
    assert chi2q(x2, 2) == pytest.approx(math.exp(-x2 / 2))


def test_chi2q_known_values():
    assert chi2q(0.0, 10) == 1.0
    # P(chi2 with 4 df >= 9.4877) = 0.05, the textbook critical value
    assert chi2q(9.4877, 4) == pytest.approx(0.05, abs=1e-4)


def _classify(bayes_native, spam, ham, nspam, nham, params=DEFAULT_PARAMS):
    return bayes_native.combine(
        array("q", spam), array("q", ham), nspam, nham,
        params.strength, params.assumed, params.min_strength, params.max_clues,
    )  # fmt: skip


def test_no_clues_is_no_opinion(bayes_native):
    assert _classify(bayes_native, [], [], 10, 10) == (0.5, 0)
    assert _classify(bayes_native, [0, 0, 5], [0, 0, 5], 10, 10) == (0.5, 0)
    verdict = classify([], [], 10, 10)
    assert verdict.band is Band.UNSURE and verdict.unsure and verdict.clues == 0


def test_untrained_is_no_opinion(bayes_native):
    assert _classify(bayes_native, [5, 5], [0, 0], 10, 0) == (0.5, 0)
    assert _classify(bayes_native, [5, 5], [0, 0], 0, 10) == (0.5, 0)


def test_strong_evidence_gives_a_clear_verdict(bayes_native):
    spammy, clues = _classify(bayes_native, [50] * 20, [0] * 20, 100, 100)
    hammy, _ = _classify(bayes_native, [0] * 20, [50] * 20, 100, 100)
    assert clues == 20
    assert spammy > 0.99 and hammy < 0.01
    assert classify([50] * 20, [0] * 20, 100, 100).band is Band.SPAM
    assert classify([0] * 20, [50] * 20, 100, 100).band is Band.HAM


def test_mixed_evidence_is_unsure(bayes_native):
    probability, _ = _classify(bayes_native, [50] * 10 + [0] * 10, [0] * 10 + [50] * 10, 100, 100)
    assert probability == pytest.approx(0.5)


@given(st.lists(st.tuples(small, small), max_size=60), st.integers(1, 1000), st.integers(1, 1000))
def test_swapping_spam_and_ham_mirrors_the_probability(bayes_native, pairs, nspam, nham):
    spam = [s for s, _ in pairs]
    ham = [h for _, h in pairs]
    p, n = _classify(bayes_native, spam, ham, nspam, nham)
    q, m = _classify(bayes_native, ham, spam, nham, nspam)
    assert n == m
    assert p == pytest.approx(1.0 - q, abs=1e-9)
    assert 0.0 <= p <= 1.0


def test_at_most_max_clues_strongest_first():
    spam = [1] * 300 + [100] * 200
    ham = [0] * 500
    clues = select_clues(spam, ham, 100, 100)
    assert len(clues) == DEFAULT_PARAMS.max_clues
    assert {i for i, _ in clues} == set(range(300, 450))  # the strongest, the earliest of ties
    assert classify(spam, ham, 100, 100).clues == 150


def test_weak_tokens_are_not_clues():
    # f = (0.45 * 0.5 + 2 * 0.6) / 2.45 = 0.5816: within min_strength of 0.5
    assert select_clues([3], [2], 10, 10) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(counts, counts), max_size=400),
    st.integers(-1, 2**62),
    st.integers(-1, 2**62),
    st.sampled_from(
        [DEFAULT_PARAMS, ChiSquaredParams(0.45, 0.5, 0.0, 3), ChiSquaredParams(2.0, 0.4)]
    ),
)
def test_compiled_combiner_is_bit_identical(bayes_native, pairs, nspam, nham, params):
    spam = array("q", [s for s, _ in pairs])
    ham = array("q", [h for _, h in pairs])
    assert _classify(bayes_native, spam, ham, nspam, nham, params) == combine_py(
        spam, ham, nspam, nham, params
    )


def test_classify_converts_and_checks_its_input():
    assert classify([1, 2], array("q", [0, 0]), 10, 10) == classify((1, 2), [0, 0], 10, 10)
    with pytest.raises(ValueError, match="differ in length"):
        classify([1, 2], [0], 10, 10)
    with pytest.raises(OverflowError):
        classify([2**63], [0], 10, 10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strength": 0.0},
        {"assumed": 1.0},
        {"min_strength": 0.5},
        {"max_clues": 0},
        {"ham_cutoff": 0.95},
    ],
)
def test_bad_params_are_refused(kwargs):
    with pytest.raises(ValueError):
        ChiSquaredParams(**kwargs)


def test_bands():
    assert DEFAULT_PARAMS.band(0.19) is Band.HAM
    assert DEFAULT_PARAMS.band(0.20) is Band.UNSURE
    assert DEFAULT_PARAMS.band(0.89) is Band.UNSURE
    assert DEFAULT_PARAMS.band(0.90) is Band.SPAM


def test_dispatch_uses_the_compiled_combiner_unless_pure():
    assert ("python" if native.NO_EXTENSIONS else "cython") == classifier.IMPLEMENTATION


def test_spamassassin_train_and_test(spamassassin):
    """Learn two thirds of the corpus, classify the rest: the tokens carry the signal.

    The split is by a hash of the file name, so it is fixed and mixes the source folders."""
    spam_counts: Counter[int] = Counter()
    ham_counts: Counter[int] = Counter()
    nspam = nham = 0
    held_out = []
    for label, name, features in spamassassin:
        ids = tokenizer.tokenize(features)
        if zlib.crc32(name.encode()) % 3:
            if label == "spam":
                spam_counts.update(ids)
                nspam += 1
            else:
                ham_counts.update(ids)
                nham += 1
        else:
            held_out.append((label, ids))
    bands: Counter[tuple[str, Band]] = Counter()
    for label, ids in held_out:
        verdict = classify([spam_counts[i] for i in ids], [ham_counts[i] for i in ids], nspam, nham)
        bands[label, verdict.band] += 1
    hams = sum(n for (label, _), n in bands.items() if label == "ham")
    spams = sum(n for (label, _), n in bands.items() if label == "spam")
    assert hams > 700 and spams > 300
    # measured: 4 of 893 ham called spam (hard_ham newsletters), 3 of 369 spam called ham,
    # 18 of 1,262 unsure
    assert bands["ham", Band.SPAM] / hams < 0.01  # false positives
    assert bands["spam", Band.HAM] / spams < 0.02  # false negatives
    assert (bands["ham", Band.UNSURE] + bands["spam", Band.UNSURE]) / len(held_out) < 0.05
