"""Pattern sets give the documented answers: anchoring, case, ASCII classes, errors, subjects."""

from __future__ import annotations

import pytest

from pmgfast import pattern_syntax
from pmgfast.patterns import (
    MAX_PATTERN_LENGTH,
    NativePatternSet,
    Pattern,
    PatternError,
    PurePatternSet,
    compile_set,
)


@pytest.fixture(params=["pure", "native"])
def build(request, native_set):
    return PurePatternSet if request.param == "pure" else native_set


CASES = [
    # (pattern, anchored, case_insensitive, subject, expected match)
    (r"image/.*", False, False, "image/png", True),
    (r".*\.exe", True, True, "SETUP.EXE", True),
    (r".*\.exe", True, True, "setup.exe.txt", False),
    (r"exe", True, False, "exe\n", False),
    (r"end$", False, False, "the end\n", True),
    (r"end$", False, False, "the end\n\n", False),
    (r"end$", True, False, "end\n", False),
    (r"end$\n", False, False, "end\n", True),
    (r"(?m)^b$", False, False, "a\nb\nc", True),
    (r"\bword\b", False, False, "a word.", True),
    (r"\bword\b", False, False, "swordfish", False),
    (r"\w+", True, False, "été", False),  # \w is ASCII only
    (r"\d", False, False, "٣", False),  # Arabic-Indic digit is not \d
    (r"\s", False, False, "\u00a0", False),  # NBSP is not \s
    (r"\s", False, False, "\x0b", True),
    (r"k", False, True, "\u212a", False),  # Kelvin sign does not fold to k
    (r"é", False, True, "É", False),  # case folding is ASCII only
    (r"[a-c]+", True, True, "AbC", True),
    (r"[^a]", True, True, "A", False),
    (r".", True, False, "€", True),  # . is one code point
    (r"foo(?!bar)", False, False, "foobar", False),
    (r"foo(?!bar)", False, False, "foobaz", True),
    (r"(?<=x)y", False, False, "xy", True),
    (r"(\w)\1", False, False, "abba", True),
    (r"(\w)\1", False, False, "abab", False),
    (r"(?i)(a)\1", False, False, "aA", True),  # case-insensitive back-reference (Python's re)
    (r"(a)?(?(1)b|c)", True, False, "c", True),  # conditional group (Python's re)
    (r"a++b", False, False, "aaab", True),
    (r"(?>a+)ab", False, False, "aaab", False),
    (r"\Bx", False, False, "", False),
    (r"\B", False, False, "", False),  # Python: \B never matches an empty subject
    (r"", True, False, "", True),
    (r"a{,2}b", True, False, "aab", True),
    (r"a{", False, False, "a{", True),
    (r"\<", False, False, "<", True),
    (r"(?x) a b  # comment", False, False, "ab", True),
    (r"(?i)abc", True, False, "ABC", True),  # global flags stay first when anchored
    (r"a|bc", True, False, "bc", True),
    (r"a|bc", True, False, "abc", False),
]


@pytest.mark.parametrize(("regex", "anchored", "ci", "subject", "expected"), CASES)
def test_documented_answers(build, regex, anchored, ci, subject, expected):
    pset = build([Pattern(7, regex, anchored=anchored, case_insensitive=ci)])
    assert pset.matches(subject) == ([7] if expected else [])


def test_matches_returns_sorted_unique_ids(build):
    pset = build([Pattern(9, "b"), Pattern(3, "a"), Pattern(3, "ab"), Pattern(5, "zz")])
    assert pset.matches("xab") == [3, 9]
    assert len(pset) == 4


def test_bytes_subjects_are_utf8_with_replacement(build):
    pset = build([Pattern(1, "\ufffd"), Pattern(2, "^é$"), Pattern(3, r"^.\Z")])
    assert pset.matches("é".encode()) == [2, 3]
    assert pset.matches(b"\xff") == [1, 3]
    assert pset.matches(b"\xe2\x82") == [1, 3]  # a truncated sequence is one U+FFFD
    assert pset.matches("\ud800") == [1]  # a lone surrogate becomes U+FFFD too


@pytest.mark.parametrize(
    ("regex", "reason"),
    [
        ("a(", "missing )"),
        ("(?<=a+)b", "look-behind requires fixed-width pattern"),
        (r"\q", "bad escape"),
        ("x" * (MAX_PATTERN_LENGTH + 1), "longer than"),
        ("(?:a{10000}){1000}", "too complex"),
        ("(" * 60 + ")" * 60, "nested deeper"),
        ("(?u)a", "incompatible"),
    ],
)
def test_invalid_patterns_are_refused_with_pattern_and_reason(build, regex, reason):
    bad = Pattern(42, regex)
    with pytest.raises(PatternError) as info:
        build([Pattern(1, "fine"), bad])
    assert info.value.pattern == bad
    assert reason in info.value.reason


def test_id_must_fit_64_bits(build):
    with pytest.raises(PatternError, match="64-bit"):
        build([Pattern(2**63, "a")])


def test_compile_set_picks_native_when_built(rust_module):
    pset = compile_set([Pattern(1, "a")])
    assert isinstance(pset, NativePatternSet if rust_module is not None else PurePatternSet)


def test_slow_paths_are_reported(native_set, rust_module):
    pset = native_set(
        [
            Pattern(1, r"plain \w+ text"),
            Pattern(2, r"foo(?=bar)"),
            Pattern(3, r"(?i)(a)\1"),
            Pattern(4, r"a$b"),
        ]
    )
    if rust_module is None:
        assert pset.slow_ids() == [1, 2, 3, 4]
    else:
        assert pset.slow_ids() == [2, 3, 4]
        stats = pset.stats()
        assert (stats["fallback"], stats["python_fallback"]) == (2, 1)


@pytest.mark.parametrize(
    ("regex", "anchored", "expected"),
    [
        (r"a.b", False, "a.b"),
        (r"(?i)x[a-c]", False, "[xX][a-cA-C]"),
        (r"\d\W", False, "[0-9][[^0-9A-Za-z_]]"),
        (r"a$", False, r"a(?:\n?\z)"),
        (r"a$", True, r"a\z"),
        (r"^a|b", False, r"(?:\Aa|b)"),
        (r"x{2,}?", False, "x{2,}?"),
        (r"(?:ab)*", False, "(?:ab)*"),
        (r"\.", False, r"\x{2E}"),
    ],
)
def test_translation_to_rust_syntax(regex, anchored, expected):
    tree = pattern_syntax.parse(regex, case_insensitive=False)
    assert pattern_syntax.translate(tree, anchored) == pattern_syntax.Translation(expected)


def test_fallback_translation_has_a_relaxed_prefilter():
    tree = pattern_syntax.parse(r"(\w+) \1(?!x)$z", case_insensitive=False)
    t = pattern_syntax.translate(tree, anchored=False)
    assert t.needs_fallback
    assert t.regex == r"([0-9A-Za-z_]+)\x{20}(?:\1)(?!x)(?=\n?\z)z"
    assert t.prefilter == r"([0-9A-Za-z_]+)\x{20}(?s:.)*z"
