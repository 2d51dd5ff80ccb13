"""Perl regex literals of SpamAssassin rule files, as Python ``re`` patterns.

A rule line holds a Perl match operator: ``/re/flags`` or ``m<delim>re<delim>flags`` (``m{re}``,
``m!re!``, ``m#re#``, ...). :func:`parse_literal` splits it into the pattern text and its
flags; :func:`to_python` rewrites the few Perl constructs that Python spells differently, so
the result compiles with :mod:`re` (and from there into the native pattern sets, which take
Python syntax):

==================  ========================================================================
Perl                Python
==================  ========================================================================
``\\z``              ``\\Z`` (the very end)
``\\Z``              ``(?=\\n?\\Z)`` (end, or before a final newline)
``\\h`` / ``\\H``     ``[ \\t]`` / ``[^ \\t]``
``\\x{263a}``        ``\\u263a`` (``\\U`` beyond the BMP)
``\\Q...\\E``         the text escaped
``[[:alpha:]]``     the ASCII class spelled out (inside brackets)
``(?<name>...)``    ``(?P<name>...)``; ``\\k<name>`` becomes ``(?P=name)``
``\\/`` ``\\@``        the character itself
==================  ========================================================================

Flags ``i`` (case-insensitive), ``s``, ``m`` and ``x`` become inline flags; ``g`` and ``o`` mean
nothing for a match and are dropped. Anything else (``\\p{..}``, ``(?{code})``, unknown flags)
raises :class:`PerlRegexError`, which the rule-file reader records as a lint error.
"""

from __future__ import annotations

import re

__all__ = ["PerlRegexError", "parse_literal", "to_python"]

_PAIRS = {"{": "}", "(": ")", "[": "]", "<": ">"}
_POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": "a-zA-Z0-9_",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_KNOWN_FLAGS = frozenset("imsxgo")


class PerlRegexError(ValueError):
    """A regex literal that cannot be read or has no Python equivalent."""


def parse_literal(text: str) -> tuple[str, str]:
    """``(pattern, flags)`` of a Perl match literal such as ``/foo/i`` or ``m{foo}i``.

    The literal must make up all of ``text`` (surrounding white space aside)."""
    s = text.strip()
    if s.startswith("m") and len(s) > 1 and not s[1].isalnum() and not s[1].isspace():
        open_ = s[1]
        i = 2
    elif s.startswith("/"):
        open_ = "/"
        i = 1
    else:
        raise PerlRegexError(f"not a regex literal: {text!r}")
    close = _PAIRS.get(open_, open_)
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if open_ != close and c == open_:
            depth += 1
        elif c == close:
            if depth == 0:
                break
            depth -= 1
        j += 1
    else:
        raise PerlRegexError(f"unterminated regex literal: {text!r}")
    pattern = s[i:j]
    flags = s[j + 1 :]
    bad = set(flags) - _KNOWN_FLAGS
    if bad:
        raise PerlRegexError(f"unknown regex flags {''.join(sorted(bad))!r} in {text!r}")
    return pattern, flags


def _class_body(p: str, i: int, out: list[str]) -> int:
    """Copy a bracket class starting after ``[`` at ``i``; return the index after ``]``."""
    n = len(p)
    if i < n and p[i] == "^":
        out.append("^")
        i += 1
    if i < n and p[i] == "]":
        out.append(r"\]")
        i += 1
    while i < n:
        c = p[i]
        if c == "]":
            return i + 1
        if c == "[" and p.startswith("[:", i):
            end = p.find(":]", i + 2)
            if end < 0:
                raise PerlRegexError("unterminated POSIX class")
            name = p[i + 2 : end]
            negate = name.startswith("^")
            if negate or name not in _POSIX:
                raise PerlRegexError(f"unsupported POSIX class [:{name}:]")
            out.append(_POSIX[name])
            i = end + 2
            continue
        if c == "[":
            out.append(r"\[")
            i += 1
            continue
        if c == "\\":
            i = _escape(p, i, out, in_class=True)
            continue
        out.append(c)
        i += 1
    raise PerlRegexError("unterminated character class")


def _escape(p: str, i: int, out: list[str], in_class: bool) -> int:
    """Translate the escape at ``p[i] == '\\\\'``; return the index after it."""
    if i + 1 >= len(p):
        raise PerlRegexError("trailing backslash")
    c = p[i + 1]
    if c == "x" and p.startswith("{", i + 2):
        end = p.find("}", i + 3)
        if end < 0:
            raise PerlRegexError("unterminated \\x{...}")
        try:
            code = int(p[i + 3 : end] or "0", 16)
        except ValueError:
            raise PerlRegexError(f"bad \\x{{{p[i + 3 : end]}}}") from None
        if code > 0x10FFFF:
            raise PerlRegexError("code point beyond Unicode")
        out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        return end + 1
    if c in "pPXCNRKGk" and not (c == "k" and p.startswith("<", i + 2)):
        raise PerlRegexError(f"unsupported escape \\{c}")
    if c == "k":
        end = p.find(">", i + 3)
        if end < 0:
            raise PerlRegexError("unterminated \\k<name>")
        out.append(f"(?P={p[i + 3 : end]})")
        return end + 1
    if c == "h":
        out.append(r" \t" if in_class else r"[ \t]")
        return i + 2
    if c == "H":
        if in_class:
            raise PerlRegexError("\\H inside a class")
        out.append(r"[^ \t]")
        return i + 2
    if not in_class and c == "z":
        out.append(r"\Z")
        return i + 2
    if not in_class and c == "Z":
        out.append(r"(?=\n?\Z)")
        return i + 2
    if c.isascii() and (c.isalnum() or c == "_"):
        out.append("\\" + c)  # \d \w \s \b \n \t \1 ...: the same in Python
        return i + 2
    # an escaped punctuation or non-ASCII character stands for itself
    out.append(re.escape(c))
    return i + 2


def to_python(pattern: str, flags: str = "") -> str:
    """The Perl ``pattern`` with ``flags`` as a Python regex (inline flags in front)."""
    out: list[str] = []
    p = pattern
    i = 0
    n = len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            if p.startswith("\\Q", i):
                end = p.find("\\E", i + 2)
                stop = n if end < 0 else end
                out.append(re.escape(p[i + 2 : stop]))
                i = n if end < 0 else end + 2
                continue
            if p.startswith("\\E", i):
                i += 2
                continue
            i = _escape(p, i, out, in_class=False)
            continue
        if c == "[":
            out.append("[")
            i = _class_body(p, i + 1, out)
            out.append("]")
            continue
        if c == "(" and p.startswith("(?", i):
            if p.startswith("(?<", i) and i + 3 < n and p[i + 3] not in "=!":
                out.append("(?P<")
                i += 3
                continue
            if p.startswith("(?{", i) or p.startswith("(??{", i) or p.startswith("(?|", i):
                raise PerlRegexError("code blocks and branch resets are not supported")
        out.append(c)
        i += 1
    inline = "".join(sorted({f for f in flags if f in "imsx"}))
    body = "".join(out)
    return f"(?{inline}){body}" if inline else body
