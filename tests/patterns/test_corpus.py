"""Real data: SpamAssassin's shipped body rules over corpus messages, native against ``re``.

The rules come from Debian's ``spamassassin`` package (installed by scripts/bootstrap.sh); the
messages from the shared corpus. A sample keeps the pure side (one regex at a time) quick.
"""

from __future__ import annotations

import pytest

from bench.bench_patterns import corpus_texts, load_rules, rule_patterns
from pmgfast.patterns import NativePatternSet, PurePatternSet


@pytest.fixture(scope="module")
def rules():
    rules, skipped = load_rules()
    assert len(rules) > 600 and skipped < 10
    return rule_patterns(rules)


def test_spamassassin_rules_hit_identically(rules, rust_module, corpus):
    texts = corpus_texts(60)
    pure = PurePatternSet(rules)
    expected = [pure.matches(t) for t in texts]
    assert sum(map(len, expected)) > 100  # the rules really fire on this sample
    if rust_module is None:
        return
    fast = NativePatternSet(rules, rust_module)
    assert [fast.matches(t) for t in texts] == expected
    assert [fast.matches(t.encode()) for t in texts[:10]] == expected[:10]
    stats = fast.stats()
    assert stats["python_fallback"] <= 5 and stats["fallback"] < len(rules) // 5
