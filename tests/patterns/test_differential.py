"""Native and pure pattern sets agree: Hypothesis-generated patterns and subjects.

Patterns are drawn from a grammar of the constructs admins and SpamAssassin rules use (classes,
ASCII shorthands, anchors, groups with scoped flags, every quantifier, look-around,
back-references, atomic groups), subjects from an alphabet full of the characters where Python
and Rust could disagree (non-ASCII letters, the Kelvin sign, newlines, vertical tab, NBSP).
Both sets must refuse the same patterns and give the same ids for every subject.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pmgfast.patterns import NativePatternSet, Pattern, PatternError, PurePatternSet

ALPHABET = "abcAB019 _-.\n\t\x0b\r\u00a0éÉ€\u212aſ<\\"
CHARS = "abcAB019 _-.é€\u212a"

literal = st.sampled_from(CHARS).map(re.escape)
shorthand = st.sampled_from([r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", "."])
anchor = st.sampled_from([r"\b", r"\B", "^", "$", r"\A", r"\Z"])
klass = st.builds(
    lambda neg, items: "[" + ("^" if neg else "") + "".join(items) + "]",
    st.booleans(),
    st.lists(
        st.one_of(
            literal,
            st.sampled_from([r"\d", r"\w", r"\W", r"\s", "a-c", "A-Z", "0-9", "\u00e0-\u00ff"]),
        ),
        min_size=1,
        max_size=3,
    ),
)
lookbehind_body = st.text(alphabet="abAB ", min_size=1, max_size=3).map(re.escape)
atom = st.one_of(literal, literal, shorthand, klass, anchor)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    quant = st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "{,2}", "*?", "+?", "??", "*+", "?+"])
    return st.one_of(
        st.lists(inner, min_size=2, max_size=4).map("".join),
        st.lists(inner, min_size=2, max_size=3).map("|".join).map(lambda s: f"(?:{s})"),
        inner.map(lambda s: f"({s})"),
        st.builds(lambda f, s: f"(?{f}:{s})", st.sampled_from(["i", "s", "m", "-i", "a"]), inner),
        st.builds(lambda s, q: f"(?:{s}){q}", inner, quant),
        st.builds(lambda s, q: f"{s}{q}", literal, quant),
        st.builds(lambda k, s: f"(?{k}{s})", st.sampled_from(["=", "!"]), inner),
        st.builds(lambda k, s: f"(?{k}{s})", st.sampled_from(["<=", "<!"]), lookbehind_body),
        inner.map(lambda s: f"(?>{s})"),
        inner.map(lambda s: f"({s})\\1"),
    )


regex = st.builds(
    lambda flags, body: flags + body,
    st.sampled_from(["", "", "", "(?i)", "(?s)", "(?m)", "(?x)"]),
    st.recursive(atom, _extend, max_leaves=8),
)
pattern_lists = st.lists(
    st.builds(Pattern, st.integers(0, 5), regex, st.booleans(), st.booleans()),
    min_size=1,
    max_size=4,
)
subjects = st.lists(st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=6)


def _build(cls, pats, *args):
    try:
        return cls(pats, *args)
    except PatternError as err:
        return ("refused", err.pattern, err.reason)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pats=pattern_lists, texts=subjects)
def test_native_agrees_with_pure(rust_module, pats, texts):
    if rust_module is None:
        pytest.skip("pure mode: there is no native set to compare (the contract tests run)")
    pure = _build(PurePatternSet, pats)
    fast = _build(NativePatternSet, pats, rust_module)
    if isinstance(pure, tuple) or isinstance(fast, tuple):
        assert pure == fast
        return
    stats = fast.stats()
    event(
        f"rust={stats['patterns'] - stats['fallback']} fancy={stats['fallback']} "
        f"python={stats['python_fallback']}"
    )
    for text in texts:
        assert fast.matches(text) == pure.matches(text), (pats, text)
        raw = text.encode() + b"\xff"
        assert fast.matches(raw) == pure.matches(raw), (pats, raw)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=40))
def test_bytes_decode_like_python(rust_module, data):
    if rust_module is None:
        pytest.skip("pure mode: there is no native set to compare")
    pats = [
        Pattern(1, "\ufffd"),
        Pattern(2, r"\A.{0,3}\Z", anchored=False),
        Pattern(3, "(?s).{5}"),
        Pattern(4, r"\ufffd\ufffd"),
    ]
    assert NativePatternSet(pats, rust_module).matches(data) == PurePatternSet(pats).matches(data)
