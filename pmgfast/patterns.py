"""Pattern sets: many admin-written regexes compiled once, matched against a subject in one call.

This is the contract every user of patterns codes against (the rule system's regex, content
type and filename objects; the spam engine's content rules)::

    patterns = compile_set([Pattern(1, r"image/.*"),
                            Pattern(2, r".*\\.exe", anchored=True, case_insensitive=True)])
    patterns.matches("image/png")        # -> [1]

``matches`` returns the ids of every pattern that matches the subject, sorted ascending.
``anchored`` means the whole subject must match (Perl ``m/^(?:re)$/``); otherwise a match
anywhere counts. ``case_insensitive`` is Perl's ``/i``. Subjects may be ``str`` or ``bytes``
(bytes are matched as UTF-8 text with invalid bytes replaced by U+FFFD; lone surrogates in a
``str`` are replaced the same way).

Syntax and meaning are Python's :mod:`re` with the ``re.ASCII`` flag: ``\\d \\w \\s \\b`` and
case-insensitivity cover ASCII only (as Perl does on the byte strings SpamAssassin and PMG
match), while ``.`` and classes see whole code points. ASCII was chosen because Unicode
``\\w``/``\\s``/case folding differ between Python and the Rust engine (``str.isalnum`` versus
Unicode properties, ``lower()`` versus case folding), so only ASCII can give identical answers;
it also keeps the Rust DFA fast. Every set refuses, with :class:`PatternError`, a pattern that
Python refuses, one longer than :data:`MAX_PATTERN_LENGTH`, or one whose expansion or nesting
exceeds the bounds of :mod:`pmgfast.pattern_syntax`.

:class:`PurePatternSet` is the pure-Python twin on :mod:`re`: the reference for differential
tests and the baseline for benchmarks. :class:`NativePatternSet` runs on the Rust engine
(``regex`` with an Aho-Corasick literal prefilter; ``fancy-regex`` for look-around and
back-references; Python's own regex for the few constructs neither can do exactly) and reports
the patterns that are not on the fast path in :meth:`NativePatternSet.slow_ids`.
:func:`compile_set` returns the native set when extensions are available, else the twin; both
give identical answers. A fallback pattern that exceeds the backtracking limit on a subject
counts as not matching there (Python's ``re`` would instead take as long as it takes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pmgfast import native, pattern_syntax

MAX_PATTERN_LENGTH = 4096
_ID_RANGE = range(-(2**63), 2**63)


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


class PatternSet(Protocol):
    """What every pattern set offers."""

    patterns: tuple[Pattern, ...]

    def __len__(self) -> int: ...

    def matches(self, subject: str | bytes) -> list[int]: ...

    def slow_ids(self) -> list[int]: ...


def subject_text(subject: str | bytes) -> str:
    """The text a subject is matched as: bytes decoded as UTF-8 with replacement, and lone
    surrogates of a ``str`` replaced the same way (they cannot be encoded)."""
    if isinstance(subject, bytes):
        return subject.decode("utf-8", "replace")
    if subject.isascii():
        return subject
    try:
        subject.encode("utf-8")
    except UnicodeEncodeError:
        return subject.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return subject


@dataclass(frozen=True, slots=True)
class _Checked:
    """A validated pattern: Python's compiled form and its parse tree."""

    pattern: Pattern
    match: Callable[[str], re.Match[str] | None]
    tree: Any


def _check(pattern: Pattern) -> _Checked:
    """Validate one pattern exactly as every set does; raise :class:`PatternError`."""
    if pattern.id not in _ID_RANGE:
        raise PatternError(pattern, "id outside the signed 64-bit range")
    if len(pattern.regex) > MAX_PATTERN_LENGTH:
        raise PatternError(pattern, f"longer than {MAX_PATTERN_LENGTH} characters")
    flags = pattern_syntax.FLAGS | (re.IGNORECASE if pattern.case_insensitive else 0)
    try:
        regex = re.compile(pattern.regex, flags)  # anchored: fullmatch, so no wrapping group
        tree = pattern_syntax.parse(pattern.regex, pattern.case_insensitive)
        pattern_syntax.check_bounds(tree)
    except (re.error, ValueError, OverflowError) as err:  # TooComplex is a ValueError
        raise PatternError(pattern, str(err)) from None
    except RecursionError:
        raise PatternError(pattern, "pattern nested too deeply") from None
    return _Checked(pattern, regex.fullmatch if pattern.anchored else regex.search, tree)


class PurePatternSet:
    """The pure-Python pattern set: one :mod:`re` pattern per entry, tried in turn."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.patterns = tuple(patterns)
        self._compiled = tuple((c.pattern.id, c.match) for c in map(_check, self.patterns))

    def __len__(self) -> int:
        return len(self.patterns)

    def matches(self, subject: str | bytes) -> list[int]:
        text = subject_text(subject)
        return sorted({pid for pid, match in self._compiled if match(text) is not None})

    def slow_ids(self) -> list[int]:
        """Every pattern of the twin is on the slow path."""
        return sorted({p.id for p in self.patterns})


class NativePatternSet:
    """The Rust pattern set (see the module docstring); same answers as :class:`PurePatternSet`."""

    def __init__(self, patterns: Sequence[Pattern], module: Any | None = None) -> None:
        module = module if module is not None else native.rust()
        if module is None:
            raise RuntimeError("the native pattern set needs the compiled extension")
        self.patterns = tuple(patterns)
        checked = [_check(p) for p in self.patterns]
        specs: list[tuple[int, str, bool, bool, str | None]] = []
        on_rust: list[_Checked] = []
        python: list[_Checked] = []
        for c in checked:
            try:
                t = pattern_syntax.translate(c.tree, c.pattern.anchored)
            except pattern_syntax.Untranslatable:
                python.append(c)
                continue
            specs.append((c.pattern.id, t.regex, c.pattern.anchored, False, t.prefilter))
            on_rust.append(c)
        self._set = module.PatternSet(specs, lenient=True)
        # Beyond the Rust engines' own limits: Python's regex keeps these exact.
        python += [on_rust[index] for index, _reason in self._set.refused()]
        self._python = tuple((c.pattern.id, c.match) for c in python)
        self._all = tuple((c.pattern.id, c.match) for c in checked)
        self._slow = sorted({*self._set.slow_ids(), *(pid for pid, _ in self._python)})

    def __len__(self) -> int:
        return len(self.patterns)

    def matches(self, subject: str | bytes) -> list[int]:
        if not subject:
            # Python's \B never matches an empty subject, Rust's does: decide these in Python.
            return sorted({pid for pid, match in self._all if match("") is not None})
        try:
            found = self._set.matches(subject)
        except UnicodeEncodeError:
            subject = subject_text(subject)
            found = self._set.matches(subject)
        if not self._python:
            return list(found)
        text = subject_text(subject)
        return sorted({*found, *(pid for pid, match in self._python if match(text) is not None)})

    def slow_ids(self) -> list[int]:
        """Ids of the patterns off the fast path (backtracking engine or Python's ``re``)."""
        return list(self._slow)

    def stats(self) -> dict[str, int]:
        """Counts of the compiled set (see ``pmgfast_native.PatternSet.stats``)."""
        return {**self._set.stats(), "python_fallback": len(self._python)}


def compile_set(patterns: Sequence[Pattern]) -> PatternSet:
    """The fastest available pattern set for ``patterns`` (the compiled one when built)."""
    module = native.rust()
    if module is None:
        return PurePatternSet(patterns)
    return NativePatternSet(patterns, module)
