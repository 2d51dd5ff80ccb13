"""Macro expansion and header encoding, checked against Perl itself where PMG relies on it:
MIME-tools' ``encode_mimewords`` (the Debian package PMG uses) and Perl's ``sprintf`` and
number printing for ``__SPAM_INFO__``."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmgfast.rules.facts import SpamHit
from pmgfast.rules.macros import header_value, html_to_text, spam_info, substitute
from pmgfast.rules.mimewords import encode_mimewords

PERL = shutil.which("perl")

ENCODE = r"""
use MIME::Words qw(encode_mimewords);
while (my $line = <STDIN>) {
    chomp $line;
    my $raw = pack('H*', $line);
    print unpack('H*', encode_mimewords($raw, Charset => 'UTF-8')), "\n";
}
"""

SPRINTF = r"""
while (my $line = <STDIN>) {
    chomp $line;
    my ($rule, $score, $desc) = split /\t/, $line, 3;
    printf("%-22s %6s %s\n", $rule, $score + 0, $desc || '-');
}
"""


def perl(script: str, lines: list[str]) -> list[str]:
    if PERL is None:
        raise RuntimeError("perl is needed for these tests (Debian: perl, libmime-tools-perl)")
    result = subprocess.run(
        [PERL, "-e", script],
        input="".join(f"{x}\n" for x in lines),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split("\n")[: len(lines)]


header_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40
)


@settings(max_examples=25, deadline=None)
@given(st.lists(header_text, min_size=1, max_size=40))
def test_encode_mimewords_matches_mime_tools(lines):
    expected = [
        bytes.fromhex(x).decode("latin-1")
        for x in perl(ENCODE, [line.encode("utf-8").hex() for line in lines])
    ]
    assert [encode_mimewords(line) for line in lines] == expected


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Z_]{1,30}", fullmatch=True),
            st.one_of(
                st.integers(-20, 200), st.sampled_from([0.001, 1.0, -0.1, 2.5, 1e-05, 3.14159])
            ),
            st.sampled_from(["", "Some test", "0"]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_spam_info_lines_match_perl_sprintf(hits):
    expected = perl(SPRINTF, [f"{r}\t{s}\t{d}" for r, s, d in hits])
    text = spam_info(5, [SpamHit(r, s, d) for r, s, d in hits])
    assert text.split("\n")[1:-1] == expected


def lookup(values: dict[str, str]):
    return values.get


def test_substitute_leaves_unknown_and_valueless_macros():
    assert (
        substitute("__SENDER__ __NOPE__ __RULE__ ___RULE__", lookup({"SENDER": "s"}))
        == "s __NOPE__ __RULE__ ___RULE__"
    )
    assert substitute("", lookup({})) == ""
    assert substitute(None, lookup({})) == ""


def test_values_are_not_scanned_again():
    assert (
        substitute("__SUBJECT__", lookup({"SUBJECT": "__SENDER__", "SENDER": "x"})) == "__SENDER__"
    )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("a\nb", "a\n\tb"),
        ("a\r\n   b\n\n\nc", "a\n\tb\n\tc"),
        ("\nleading", "leading"),
        ("trailing   \n\n", "trailing"),
        ("0\nx", "0x"),  # Perl: no newline after a false line ("0")
        ("", ""),
    ],
)
def test_header_values_are_folded_as_pmg(template, expected):
    assert header_value(template, lookup({})) == expected


def test_disclaimer_text_twin():
    assert (
        html_to_text("<br>--<br>Legal <b>note</b> &amp; more\nline")
        == "\n--\nLegal note & moreline"
    )
