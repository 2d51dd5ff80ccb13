"""Pattern sets: many admin-written regexes compiled once, matched against a subject in one call.

This is the contract every user of patterns codes against (the rule system's regex, content
type and filename objects; the spam engine's content rules)::

    patterns = PatternSet([Pattern(1, r"image/.*"), Pattern(2, r".*\\.exe", anchored=True,
                                                               case_insensitive=True)])
    patterns.matches("image/png")        # -> [1]

``matches`` returns the ids of every pattern that matches the subject, sorted ascending.
``anchored`` means the whole subject must match (Perl ``m/^(?:re)$/``); otherwise a match
anywhere counts. ``case_insensitive`` is Perl's ``/i``. Subjects may be ``str`` or ``bytes``
(bytes are matched as UTF-8 text with invalid bytes replaced).

:class:`PurePatternSet` is the pure-Python twin on :mod:`re`: the reference for differential
tests and the baseline for benchmarks. :func:`compile_set` returns the compiled (Rust) set when
extensions are available, else the twin; both give identical answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_PATTERN_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern of a set: its id (returned on match), the regex and how to apply it."""

    id: int
    regex: str
    anchored: bool = False
    case_insensitive: bool = False


class PatternError(ValueError):
    """A pattern that cannot be compiled; names the pattern and the reason."""

    def __init__(self, pattern: Pattern, reason: str) -> None:
        self.pattern = pattern
        self.reason = reason
        super().__init__(f"invalid pattern {pattern.regex!r} (id {pattern.id}): {reason}")


def _subject_text(subject: str | bytes) -> str:
    return subject.decode("utf-8", "replace") if isinstance(subject, bytes) else subject


class PurePatternSet:
    """The pure-Python pattern set: one :mod:`re` pattern per entry, tried in turn."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.patterns = tuple(patterns)
        compiled = []
        for pattern in self.patterns:
            if len(pattern.regex) > MAX_PATTERN_LENGTH:
                raise PatternError(pattern, f"longer than {MAX_PATTERN_LENGTH} characters")
            flags = re.IGNORECASE if pattern.case_insensitive else 0
            source = f"(?:{pattern.regex})" if pattern.anchored else pattern.regex
            try:
                regex = re.compile(source, flags)
            except re.error as err:
                raise PatternError(pattern, str(err)) from None
            compiled.append((pattern.id, regex.fullmatch if pattern.anchored else regex.search))
        self._compiled = tuple(compiled)

    def __len__(self) -> int:
        return len(self.patterns)

    def matches(self, subject: str | bytes) -> list[int]:
        text = _subject_text(subject)
        return sorted({pid for pid, match in self._compiled if match(text) is not None})


def compile_set(patterns: Sequence[Pattern]) -> PurePatternSet:
    """The fastest available pattern set for ``patterns`` (the compiled one when built)."""
    return PurePatternSet(patterns)
