"""Translate a Python ``re`` pattern into the Rust engines' syntax, with the same meaning.

The pattern is parsed by Python's own parser (``re._parser``, so what Python accepts and how it
reads it is decided by Python) and re-emitted for the Rust ``regex`` crate, or for
``fancy-regex`` when it needs look-around, back-references, atomic groups or possessive
repeats. Semantics are those of ``re`` with the ``re.ASCII`` flag (see :mod:`pmgfast.patterns`):

* ``\\d \\w \\s \\b`` and case-insensitivity are ASCII-only; every other character matches
  itself; ``.`` is one code point. Case-insensitivity is spelled out (``a`` -> ``[aA]``), so the
  Rust side needs no case flag and no Unicode case folding.
* every literal is written as an escape (``\\x{..}``): Python and Rust disagree on which
  punctuation may be escaped and on ``\\<``, ``\\Z``, octal, ``{``, verbose mode and comments,
  but all of that is gone once Python has parsed the pattern.
* ``$`` without MULTILINE is Python's "end, or before a final newline". At the end of the
  pattern it becomes ``\\n?\\z`` (``\\z`` for anchored patterns, where a fullmatch must end at the
  end); elsewhere it needs a look-ahead and so the fallback engine.

For a pattern that needs the fallback, :func:`translate` also returns a *prefilter*: the same
pattern with every look-around dropped, back-references widened to ``.*`` and atomic/possessive
constructs made ordinary. It matches a superset, compiles with the fast engine, and tells the
Rust set when the slow engine need not run. What cannot be translated exactly (conditional
groups, case-insensitive back-references, scoped Unicode flags) raises :class:`Untranslatable`;
the caller then keeps Python's own regex for that pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Python's own parser and opcodes (private modules, stable since 3.11; typeshed omits them).
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

FLAGS = re.ASCII
"""The flags every pattern is compiled with, by the pure twin and (translated) by Rust."""

MAX_COST = 1_000_000
"""Largest accepted expanded size of a pattern (repeats multiplied out), in atoms."""
MAX_DEPTH = 48
"""Deepest accepted nesting of groups, repeats and look-arounds."""

_I, _M, _S, _U = re.IGNORECASE, re.MULTILINE, re.DOTALL, re.UNICODE

_SPACE = r"\x{9}\x{A}\x{B}\x{C}\x{D}\x{20}"
_CATEGORIES = {
    C.CATEGORY_DIGIT: "0-9",
    C.CATEGORY_NOT_DIGIT: "[^0-9]",
    C.CATEGORY_SPACE: _SPACE,
    C.CATEGORY_NOT_SPACE: f"[^{_SPACE}]",
    C.CATEGORY_WORD: "0-9A-Za-z_",
    C.CATEGORY_NOT_WORD: "[^0-9A-Za-z_]",
}
_ANYTHING = "(?s:.)"
_ATOMS = (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN, C.CATEGORY)
_NOTHING = r"[^\x{0}-\x{10FFFF}]"


class Untranslatable(Exception):
    """The pattern is valid Python but has no exact equivalent in the Rust engines."""


class TooComplex(ValueError):
    """The pattern exceeds the bounds every pattern set enforces (size or nesting)."""


@dataclass(frozen=True, slots=True)
class Translation:
    """A pattern in Rust syntax; ``prefilter`` is set when it needs the fallback engine."""

    regex: str
    prefilter: str | None = None

    @property
    def needs_fallback(self) -> bool:
        return self.prefilter is not None


def parse(source: str, case_insensitive: bool) -> Any:
    """Python's parse tree of ``source`` (raises :class:`re.error` like :func:`re.compile`)."""
    return sre_parse.parse(source, FLAGS | (_I if case_insensitive else 0))


def check_bounds(tree: Any) -> None:
    """Refuse patterns whose expansion or nesting exceeds the set bounds (:class:`TooComplex`)."""
    cost = _cost(tree.data, 0)
    if cost > MAX_COST:
        raise TooComplex(f"pattern too complex: expands to {cost} atoms (limit {MAX_COST})")


def _cost(items: list[tuple[Any, Any]], depth: int) -> int:
    if depth > MAX_DEPTH:
        raise TooComplex(f"pattern nested deeper than {MAX_DEPTH} levels")
    total = 0
    for op, av in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, body = av
            times = lo + 1 if hi == C.MAXREPEAT else hi
            total += max(times, 1) * max(_cost(body.data, depth + 1), 1)
        elif op is C.SUBPATTERN:
            total += _cost(av[3].data, depth + 1)
        elif op is C.BRANCH:
            total += sum(_cost(b.data, depth + 1) for b in av[1])
        elif op in (C.ASSERT, C.ASSERT_NOT):
            total += _cost(av[1].data, depth + 1)
        elif op is C.ATOMIC_GROUP:
            total += _cost(av.data, depth + 1)
        elif op is C.GROUPREF_EXISTS:
            total += sum(_cost(b.data, depth + 1) for b in av[1:] if b is not None)
        elif op is C.IN:
            total += 1 + len(av) // 8
        else:
            total += 1
        if total > MAX_COST:
            return total
    return total


def translate(tree: Any, anchored: bool) -> Translation:
    """The Rust form of a parsed pattern (see the module docstring)."""
    flags = tree.state.flags
    exact = _Emitter(_EXACT, anchored)
    regex = exact.seq(tree.data, flags, tail=True)
    if not exact.fancy:
        return Translation(regex)
    regex = _Emitter(_FANCY, anchored).seq(tree.data, flags, tail=True)
    prefilter = _Emitter(_RELAX, anchored).seq(tree.data, flags, tail=True)
    return Translation(regex, prefilter)


def _escape(code: int) -> str:
    if code < 128 and chr(code).isalnum():
        return chr(code)
    return f"\\x{{{code:X}}}"


def _is_surrogate(code: int) -> bool:
    return 0xD800 <= code <= 0xDFFF


def _swapcase(code: int) -> int | None:
    """The other-case ASCII letter, or None for anything but an ASCII letter."""
    if 0x61 <= code <= 0x7A:
        return code - 0x20
    if 0x41 <= code <= 0x5A:
        return code + 0x20
    return None


# Emitter modes: the regex crate's syntax; fancy-regex's (which cannot switch Unicode mode
# inline, so ASCII word boundaries become look-arounds); the relaxed prefilter.
_EXACT, _FANCY, _RELAX = "exact", "fancy", "relax"
_WORD = "[0-9A-Za-z_]"
_BOUNDARY = {
    _FANCY: (
        f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))",
        f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))",
    ),
}


class _Emitter:
    """Writes one parse tree as Rust syntax; ``fancy`` records use of fallback-only syntax."""

    def __init__(self, mode: str, anchored: bool) -> None:
        self.mode = mode
        self.relax = mode == _RELAX
        self.anchored = anchored
        self.fancy = False

    def seq(self, items: Any, flags: int, tail: bool) -> str:
        items = list(items)
        last = len(items) - 1
        return "".join(
            self.node(op, av, flags, tail and i == last) for i, (op, av) in enumerate(items)
        )

    def _needs_fancy(self) -> None:
        self.fancy = True

    def node(self, op: Any, av: Any, flags: int, tail: bool) -> str:
        if op is C.LITERAL:
            return self._literal(av, flags)
        if op is C.NOT_LITERAL:
            return self._class([(C.NEGATE, None), (C.LITERAL, av)], flags)
        if op is C.ANY:
            return _ANYTHING if flags & _S else "."
        if op is C.IN:
            return self._class(av, flags)
        if op is C.CATEGORY:
            return self._class([(C.CATEGORY, av)], flags)
        if op is C.BRANCH:
            return "(?:" + "|".join(self.seq(b, flags, tail) for b in av[1]) + ")"
        if op is C.SUBPATTERN:
            group, add, delete, body = av
            if add & _U:
                raise Untranslatable("scoped Unicode flag")
            inner = self.seq(body, (flags | add) & ~delete, tail)
            return f"({inner})" if group is not None else f"(?:{inner})"
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            return self._repeat(op, av, flags)
        if op is C.AT:
            return self._at(av, flags, tail)
        if op in (C.ASSERT, C.ASSERT_NOT):
            direction, body = av
            if self.relax:
                return ""
            self._needs_fancy()
            inner = self.seq(body, flags, tail=False)
            head = {
                (C.ASSERT, 1): "(?=",
                (C.ASSERT, -1): "(?<=",
                (C.ASSERT_NOT, 1): "(?!",
                (C.ASSERT_NOT, -1): "(?<!",
            }[op, direction]
            return f"{head}{inner})"
        if op is C.GROUPREF:
            if flags & _I:
                raise Untranslatable("case-insensitive back-reference")
            if self.relax:
                return _ANYTHING + "*"
            self._needs_fancy()
            return f"(?:\\{av})" if av < 10 else f"(?:\\k<{av}>)"
        if op is C.ATOMIC_GROUP:
            inner = self.seq(av, flags, tail=False)
            if self.relax:
                return f"(?:{inner})"
            self._needs_fancy()
            return f"(?>{inner})"
        raise Untranslatable(f"unsupported construct {op}")

    def _literal(self, code: int, flags: int) -> str:
        if _is_surrogate(code):
            return _NOTHING  # subjects never contain lone surrogates (see patterns.py)
        other = _swapcase(code) if flags & _I else None
        if other is None:
            return _escape(code)
        return f"[{_escape(code)}{_escape(other)}]"

    def _class(self, items: Any, flags: int) -> str:
        negate = False
        parts: list[str] = []
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                if not _is_surrogate(av):
                    parts.append(self._literal(av, flags).strip("[]"))
            elif op is C.RANGE:
                parts.extend(self._range(av[0], av[1], flags))
            elif op is C.CATEGORY:
                if av not in _CATEGORIES:
                    raise Untranslatable(f"unsupported category {av}")
                parts.append(_CATEGORIES[av])
            else:
                raise Untranslatable(f"unsupported class item {op}")
        if not parts:
            return _ANYTHING if negate else _NOTHING
        return "[" + ("^" if negate else "") + "".join(parts) + "]"

    def _range(self, lo: int, hi: int, flags: int) -> list[str]:
        spans = [(lo, min(hi, 0xD7FF)), (max(lo, 0xE000), hi)]
        if flags & _I:
            for first, last, shift in ((0x61, 0x7A, -0x20), (0x41, 0x5A, 0x20)):
                a, b = max(lo, first), min(hi, last)
                if a <= b:
                    spans.append((a + shift, b + shift))
        return [f"{_escape(a)}-{_escape(b)}" for a, b in spans if a <= b]

    def _repeat(self, op: Any, av: Any, flags: int) -> str:
        lo, hi, body = av
        inner = self.seq(body, flags, tail=False)
        if hi == C.MAXREPEAT:
            quant = {0: "*", 1: "+"}.get(lo, f"{{{lo},}}")
        elif (lo, hi) == (0, 1):
            quant = "?"
        else:
            quant = f"{{{lo}}}" if lo == hi else f"{{{lo},{hi}}}"
        if op is C.MIN_REPEAT:
            quant += "?"
        single = len(body) == 1 and body[0][0] in _ATOMS
        atom = f"{inner}{quant}" if single else f"(?:{inner}){quant}"
        if op is C.POSSESSIVE_REPEAT and not self.relax:
            self._needs_fancy()
            return f"(?>{atom})"
        return atom

    def _at(self, code: Any, flags: int, tail: bool) -> str:
        if code is C.AT_BEGINNING:
            return "(?m:^)" if flags & _M else r"\A"
        if code is C.AT_BEGINNING_STRING:
            return r"\A"
        if code is C.AT_END_STRING:
            return r"\z"
        if code is C.AT_BOUNDARY:
            return _BOUNDARY[self.mode][0] if self.mode in _BOUNDARY else r"(?-u:\b)"
        if code is C.AT_NON_BOUNDARY:
            return _BOUNDARY[self.mode][1] if self.mode in _BOUNDARY else r"(?-u:\B)"
        if code is C.AT_END:
            if flags & _M:
                return "(?m:$)"
            if tail:
                return r"\z" if self.anchored else r"(?:\n?\z)"
            if self.relax:
                return ""
            self._needs_fancy()
            return r"(?=\n?\z)"
        raise Untranslatable(f"unsupported anchor {code}")
