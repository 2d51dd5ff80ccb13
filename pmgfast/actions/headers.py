"""The top header block of a raw message as a list of fields, and milter header operations.

A field keeps its exact bytes (name, colon, value with continuation lines), so a copy of the
mail that no edit touched is byte-identical to what was received. :func:`header_ops` turns
the difference between two header lists into the milter's ``chgheader``/``addheader`` calls
that make Postfix's copy of the mail equal to the new list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field

# a field as the MIME walk reads it: name, colon, value with its continuation lines
_FIELD = re.compile(rb"([!-9;-~]+):([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|\Z)")


@dataclass(frozen=True, slots=True)
class Field:
    """One header field: ``name`` as written, ``value`` the bytes after the colon (leading
    space and continuation lines included, line ends as ``\\n``, no final line end);
    ``key`` is the lower-cased name."""

    name: str
    value: bytes
    key: str = dc_field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.name.lower())

    def render(self, eol: bytes) -> bytes:
        return (
            self.name.encode("utf-8", "surrogateescape")
            + b":"
            + self.value.replace(b"\n", eol)
            + eol
        )


def line_ending(raw: bytes) -> bytes:
    """The message's line ending: CRLF when its first line ends so, else LF."""
    first = raw.find(b"\n")
    return b"\r\n" if first > 0 and raw[first - 1 : first] == b"\r" else b"\n"


def split_head(raw: bytes) -> tuple[list[Field], int]:
    """The top-level fields and the offset where the body starts (after the blank line).

    Lines that are neither fields nor continuations end the header block, as for the MIME walk
    (``MissingHeaderBodySeparatorDefect``): the body then starts at that line.
    """
    fields: list[Field] = []
    pos = 0
    n = len(raw)
    match = _FIELD.match
    while pos < n:
        m = match(raw, pos)
        if m is not None:
            value = m.group(2)
            if b"\r" in value:
                value = value.replace(b"\r\n", b"\n")
                if value.endswith(b"\r"):
                    value = value[:-1]
            fields.append(Field(m.group(1).decode("utf-8", "surrogateescape"), value))
            pos = m.end()
            continue
        end = raw.find(b"\n", pos)
        line_end = n if end < 0 else end + 1
        content = raw[pos:line_end].rstrip(b"\r\n")
        if not content:
            return fields, line_end
        if content[:1] in (b" ", b"\t") or content.startswith(b"From "):
            pos = line_end  # a continuation with no field before it, or an mbox From_ line
            continue
        return fields, pos
    return fields, n


def join_head(fields: list[Field], eol: bytes) -> bytes:
    return b"".join(f.render(eol) for f in fields)


def set_field(fields: list[Field], name: str, value: bytes) -> list[Field]:
    """PMG's ``head->replace``: the first instance takes the new value, the others go; a
    missing field is appended."""
    key = name.lower()
    out: list[Field] = []
    done = False
    for f in fields:
        if f.key == key:
            if not done:
                out.append(Field(f.name, value))
                done = True
            continue
        out.append(f)
    if not done:
        out.append(Field(name, value))
    return out


def delete_field(fields: list[Field], name: str) -> list[Field]:
    key = name.lower()
    return [f for f in fields if f.key != key]


def first_value(fields: list[Field], name: str) -> bytes | None:
    key = name.lower()
    for f in fields:
        if f.key == key:
            return f.value
    return None


# --- milter operations ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeaderOp:
    """``chgheader(name, index, value)`` (value ``None``: delete) or, with index 0,
    ``addheader(name, value)``. Values are the bytes after the colon, ``\\n`` folded."""

    name: str
    index: int
    value: bytes | None


def header_ops(old: list[Field], new: list[Field]) -> list[HeaderOp]:
    """The milter calls that turn header list ``old`` into ``new`` (per field name: changed
    instances are changed in place, surplus ones deleted from the last, missing ones added)."""
    if old == new:
        return []
    old_by: dict[str, list[Field]] = {}
    new_by: dict[str, list[Field]] = {}
    for f in old:
        old_by.setdefault(f.key, []).append(f)
    for f in new:
        new_by.setdefault(f.key, []).append(f)
    ops: list[HeaderOp] = []
    for key in dict.fromkeys([*old_by, *new_by]):
        before = old_by.get(key, [])
        after = new_by.get(key, [])
        for i in range(min(len(before), len(after))):
            if before[i].value != after[i].value:
                ops.append(HeaderOp(before[i].name, i + 1, after[i].value))
        for i in range(len(before) - 1, len(after) - 1, -1):
            ops.append(HeaderOp(before[i].name, i + 1, None))
        for f in after[len(before) :]:
            ops.append(HeaderOp(f.name, 0, f.value))
    return ops
