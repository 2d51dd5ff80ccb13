"""Macros (``__SENDER__``, ``__SPAM_INFO__``, ...) and how PMG expands them into text.

:func:`substitute` is PMG's ``subst_values`` (literal replacement; a macro without a value
stays as written), :func:`header_value` is ``subst_values_for_header`` (one RFC 2047 encoded
line per input line, folded with ``\\n\\t``), :func:`spam_info` formats ``__SPAM_INFO__``.

One deliberate difference: PMG substitutes macro by macro in Perl's (random) hash order, so a
value that itself contains a macro name (a subject saying ``__SENDER__``) may or may not be
expanded again. Here every macro is replaced in one pass and values are never re-scanned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html.parser import HTMLParser

from pmgfast.rules.facts import SpamHit
from pmgfast.rules.mimewords import encode_mimewords

MACROS = (
    "SUBJECT", "RULE", "RULE_INFO", "SENDER", "SENDER_IP", "TARGETS", "RECEIVERS",
    "SPAMLEVEL", "SPAMSTARS", "SPAM_HITS", "SPAM_INFO", "VIRUS_INFO", "ADMIN", "HOST",
    "DOMAIN", "FQDN", "MSGID", "VERSION", "FILENAME",
)  # fmt: skip

Lookup = Callable[[str], str | None]

_MACRO = re.compile("__(" + "|".join(sorted(MACROS, key=len, reverse=True)) + ")__")
_HEADER_LINES = re.compile(r"\r?\n\s*")
_EMPTY_LINE = re.compile(r"\n\s*\n")
_TRAILING = re.compile(r"\n?\s*\Z")


def macros_in(text: str | None) -> frozenset[str]:
    """The macro names ``text`` uses."""
    return frozenset(_MACRO.findall(text)) if text else frozenset()


_SEGMENTS: dict[str, tuple[str, ...]] = {}


def _segments(text: str) -> tuple[str, ...]:
    """``text`` cut into literal and macro pieces: macro names sit at odd positions."""
    found = _SEGMENTS.get(text)
    if found is None:
        found = tuple(_MACRO.split(text))
        if len(_SEGMENTS) > 4096:
            _SEGMENTS.clear()
        _SEGMENTS[text] = found
    return found


def substitute(text: str | None, lookup: Lookup) -> str:
    """``text`` with every macro that has a value replaced by it."""
    if not text:
        return ""
    segments = _segments(text)
    if len(segments) == 1:
        return text
    out = []
    for i, piece in enumerate(segments):
        if i % 2:
            value = lookup(piece)
            out.append(f"__{piece}__" if value is None else value)
        else:
            out.append(piece)
    return "".join(out)


def header_value(template: str | None, lookup: Lookup, encode: bool = True) -> str:
    """A header value from ``template``: macros expanded, each line encoded (unless
    ``encode`` is off: then the text a decoder would read back), lines folded."""
    return _fold(substitute(template, lookup), encode)


def header_values(template: str | None, lookup: Lookup) -> tuple[str, str]:
    """``header_value`` encoded and not, expanding the macros once."""
    text = substitute(template, lookup)
    return _fold(text, True), _fold(text, False)


def _fold(text: str, encode: bool) -> str:
    if "\n" not in text and (not text or not text[-1].isspace()):
        return encode_mimewords(text) if encode else text
    lines = _HEADER_LINES.split(text)
    while lines and lines[-1] == "":
        lines.pop()
    result = ""
    for line in lines:
        if result not in ("", "0"):  # Perl: "\n" is only added after a true value
            result += "\n"
        result += encode_mimewords(line) if encode else line
    result = result.replace("\n", "\n\t")
    if "\n\t\n" in result or "\n\t " in result:  # an empty line (the split leaves none)
        result = _EMPTY_LINE.sub("", result)
    if result and result[-1].isspace():
        result = _TRAILING.sub("", result, count=1)
    return result


def format_score(score: float | str) -> str:
    """A score as Perl prints a number (``1.0`` prints as ``1``)."""
    if isinstance(score, str):
        return score
    return f"{score:.15g}"


def spam_info(score: int, hits: Iterable[SpamHit]) -> str:
    """``__SPAM_INFO__``: empty when there are no hits (PMG has no score data then)."""
    lines = [
        f"{hit.rule:<22} {format_score(hit.score):>6} "
        f"{hit.desc if hit.desc and hit.desc != '0' else '-'}\n"
        for hit in hits
    ]
    if not lines:
        return ""
    return f"Spam detection results:  {score}\n" + "".join(lines)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def html_to_text(html: str) -> str:
    """The plain-text twin of a disclaimer: newlines dropped, ``<br>`` as a line break, tags
    removed and entities decoded (PMG: ``HTML::Parser`` ``dtext``)."""
    parser = _TextOnly()
    parser.feed(re.sub(r"\r?\n", "", html).replace("<br>", "\n"))
    parser.close()
    return "".join(parser.chunks)
