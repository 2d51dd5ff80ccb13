"""The rule-file format: what it reads, how it compiles, and that bad input is a lint error."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmgfast.patterns import Pattern, PurePatternSet, compile_set
from pmgfast.spam import rulefile
from pmgfast.spam.perlre import PerlRegexError, parse_literal, to_python
from pmgfast.spam.ruleset import CompiledRules
from pmgfast.spam.view import MailView
from tests.spam.mails import mail

RULES = r"""
# a comment
header   SUBJ_TEST   Subject =~ /hello\s+world/i
describe SUBJ_TEST   Subject says hello
score    SUBJ_TEST   1.5
header   NO_XFOO     X-Foo !~ /./
header   UNSET_TEST  X-Bar =~ /^DEFAULT$/ [if-unset: DEFAULT]
header   HAS_TO      exists:To
header   FROM_ADDR   From:addr =~ /^alice\@example\.org$/
body     BODY_TEST   m{minutes\s+of}i
rawbody  RAW_TEST    /tickets/
uri      URI_TEST    /^https?:\/\/evil\./
full     FULL_TEST   /^Message-ID:/m
meta     META_TEST   (SUBJ_TEST || BODY_TEST) && !URI_TEST
meta     META_SUM    SUBJ_TEST + BODY_TEST + RAW_TEST >= 2
score    META_SUM    0 0 2.5 2.5
tflags   META_SUM    nice
ifplugin Mail::SpamAssassin::Plugin::Whatever
body     IN_IF       /minutes/
else
body     IN_ELSE     /minutes/
endif
"""


def run(text: str, raw: bytes, **kw) -> dict[str, float]:
    rf = rulefile.parse(text, "t.cf")
    assert not rf.errors, rf.errors
    return CompiledRules.build(rf, run_all=True, **kw).run(MailView(raw))


def test_every_area_and_directive():
    raw = mail(headers={"Subject": "Hello   World"})
    r = run(RULES, raw)
    assert r["SUBJ_TEST"] == 1 and r["BODY_TEST"] == 1 and r["RAW_TEST"] == 1
    assert r["NO_XFOO"] == 1  # a missing header is the empty string, which !~ /./
    assert r["UNSET_TEST"] == 1 and r["HAS_TO"] == 1 and r["FROM_ADDR"] == 1
    assert r["URI_TEST"] == 0 and r["FULL_TEST"] == 1
    assert r["META_TEST"] == 1 and r["META_SUM"] == 1
    assert r["IN_IF"] == 1 and "IN_ELSE" not in r


def test_scores_descriptions_and_the_four_score_form():
    rf = rulefile.parse(RULES)
    assert rf.describe["SUBJ_TEST"] == "Subject says hello"
    assert rf.score_of("SUBJ_TEST") == 1.5
    assert rf.score_of("META_SUM", bayes=False) == 0 and rf.score_of("META_SUM", bayes=True) == 2.5
    assert rf.score_of("BODY_TEST") == 1.0 and rf.score_of("__SUB") == 0.0
    assert rf.score_of("T_TESTING") == 0.01
    assert rf.tflags["META_SUM"] == frozenset({"nice"})


def test_later_definitions_override_and_overrides_win():
    rf = rulefile.parse(RULES + "\nbody SUBJ_TEST /never-there/\nscore SUBJ_TEST 2\n")
    compiled = CompiledRules.build(rf, overrides={"BODY_TEST": 0.0, "RAW_TEST": 4.0})
    assert compiled.rules["SUBJ_TEST"].area == "body" and compiled.rules["SUBJ_TEST"].score == 2
    assert compiled.rules["RAW_TEST"].score == 4.0
    results = compiled.run(MailView(mail()))
    assert "BODY_TEST" in results  # score 0, but META_TEST needs it


@pytest.mark.parametrize(
    "line, message",
    [
        ("body X /unterminated", "unterminated"),
        ("body X /(/", "bad regex"),
        ("header X Subject ~ /a/", "malformed header test"),
        ("header X Subject:foo =~ /a/", "unknown header modifier"),
        ("body X eval:f(open('x'))", "eval arguments"),
        ("body 1X /a/", "bad test name"),
        ("score X abc", "not a number"),
        ("frobnicate X", "unknown directive"),
        ("body X /\\p{L}/", "unsupported escape"),
        ("endif", "endif without if"),
    ],
)
def test_bad_lines_are_lint_errors(line, message):
    rf = rulefile.parse(line, "bad.cf")
    assert rf.errors and message in rf.errors[0].message
    assert str(rf.errors[0]).startswith("bad.cf:1:")


def test_compile_problems_drop_only_that_test():
    text = "body OK /fine/\nbody E eval:no_such_function()\nmeta M OK && (\nmeta A B\nmeta B A\n"
    compiled = CompiledRules.build(rulefile.parse(text))
    messages = " ".join(e.message for e in compiled.errors)
    assert "unknown eval" in messages and "bad meta" in messages and "meta cycle" in messages
    assert compiled.run(MailView(mail(body="fine\n")))["OK"] == 1


@pytest.mark.parametrize(
    "literal, text, hit",
    [
        ("/a\\z/", "xa", True),
        ("/a\\z/", "xa\n", False),
        ("/a\\Z/", "xa\n", True),
        ("/[[:digit:]]+x/", "12x", True),
        ("/\\x{263a}/", "\u263a", True),
        ("/\\Qa.b\\E/", "aXb", False),
        ("/\\Qa.b\\E/", "a.b", True),
        ("/(?<w>ab)\\k<w>/", "abab", True),
        ("m{a/b}", "a/b", True),
        ("m!A!i", "a", True),
        ("/a\\/b/", "a/b", True),
        ("/x \\h y/x", "x\ty", True),
    ],
)
def test_perl_regex_translation(literal, text, hit):
    pattern, flags = parse_literal(literal)
    regex = to_python(pattern, flags)
    assert (re.search(regex, text) is not None) == hit
    assert bool(compile_set([Pattern(1, regex)]).matches(text)) == hit


def test_perl_regex_errors():
    for literal in ("abc", "/a/q", "/a"):
        with pytest.raises(PerlRegexError):
            parse_literal(literal)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_without_raising(text):
    rf = rulefile.parse(text)
    CompiledRules.build(rf, run_all=True).run(MailView(mail()))


_AREAS = st.sampled_from(["body", "rawbody", "uri", "full", "header Subject =~"])
_REGEX = st.sampled_from(
    [
        "/minutes/i",
        "/^here/",
        "/meeting\\.$/",
        "/\\bnext\\s+week\\b/",
        "/x{2,}/",
        "/[a-z]+@/",
        "/(?=tick)tickets/",
        "/^Subject:/m",
        "/re(?!lease)/",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_AREAS, _REGEX), min_size=1, max_size=8), st.text(max_size=300))
def test_native_sets_agree_with_the_pure_sets(rules, extra):
    """The compiled rule set gives the same results on native and pure pattern sets."""
    text = "\n".join(f"{area} T{i} {rx}" for i, (area, rx) in enumerate(rules))
    rf = rulefile.parse(text)
    native = CompiledRules.build(rf, run_all=True)
    pure = CompiledRules.build(rf, run_all=True)
    for aset in [*pure._areas.values(), *pure._headers.values()]:
        aset.patterns = PurePatternSet(aset.patterns.patterns)
    view = MailView(mail(body="Hi,\nhere are the minutes " + extra + "\n"))
    assert native.run(view) == pure.run(view)
