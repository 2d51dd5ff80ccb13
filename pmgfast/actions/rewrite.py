"""Build one copy of the mail from the received bytes and the rule engine's edits.

Edits (``pmgfast.rules.outcome``) are applied to the raw bytes by splicing, using the MIME
walk's byte ranges: a removed attachment's whole entity is replaced by a small text entity, a
disclaimer re-encodes only the text leaf it goes into, header edits touch only the top header
block. Everything else stays byte for byte as received, so a copy with no edits is the received
message itself.

Parts are named by aid; a negative reference ``-n`` is the replacement text that took the place
of part ``n`` (a disclaimer may go into it).
"""

from __future__ import annotations

import base64
import codecs
import os
import quopri
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pmgfast.actions.headers import (
    Field,
    delete_field,
    first_value,
    join_head,
    line_ending,
    set_field,
    split_head,
)
from pmgfast.rules.outcome import (
    AddDisclaimer,
    DeleteHeader,
    DisclaimerTarget,
    Edit,
    PrefixMessageId,
    RemoveAttachments,
    Replacement,
    SetHeader,
)

_CONTENT_FIELD = re.compile(r"content-.*", re.IGNORECASE)
_FIELD_LINE = re.compile(rb"[!-9;-~]+:")
_BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)


class PartSpan(Protocol):
    """What the rewrite needs from one part of the MIME walk."""

    @property
    def aid(self) -> int: ...
    @property
    def parent(self) -> int: ...
    @property
    def is_leaf(self) -> bool: ...
    @property
    def header_start(self) -> int: ...
    @property
    def body_start(self) -> int: ...
    @property
    def body_end(self) -> int: ...
    @property
    def transfer_encoding(self) -> str: ...
    @property
    def charset(self) -> str | None: ...


@dataclass
class Copy:
    """One rewritten copy: its top header fields and its body (after the blank line)."""

    fields: list[Field]
    body: bytes
    eol: bytes
    original: list[Field] = field(default_factory=list)  # the received message's fields
    body_unchanged: bool = False

    def bytes(self) -> bytes:
        return join_head(self.fields, self.eol) + self.eol + self.body


@dataclass
class _Generated:
    """A replacement entity made here (its text may still get a disclaimer)."""

    replacement: Replacement
    prefix: str = ""
    suffix: str = ""
    html_prefix: str = ""
    html_suffix: str = ""


@dataclass(frozen=True, slots=True)
class Span:
    """A part with byte offsets found by :func:`locate` (for walks that have none)."""

    aid: int
    parent: int
    is_leaf: bool
    header_start: int
    body_start: int
    body_end: int
    transfer_encoding: str
    charset: str | None


def _boundary_line(line: bytes, delimiter: bytes) -> bool | None:
    """None: not a delimiter line; False: ``--b``; True: the close delimiter ``--b--``."""
    if not line.startswith(delimiter):
        return None
    rest = line[len(delimiter) :]
    closing = rest.startswith(b"--")
    if closing:
        rest = rest[2:]
    return closing if not rest.strip(b" \t\r\n") else None


def _is_field_line(line: bytes) -> bool:
    return line.startswith((b"From ", b" ", b"\t")) or bool(_FIELD_LINE.match(line))


def _status_blocks(raw: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(header start, body start, body end) of each field block of a delivery-status body."""
    blocks = []
    pos = start
    while pos < end:
        header_start = pos
        while pos < end:
            nl = raw.find(b"\n", pos, end)
            line_end = end if nl < 0 else nl + 1
            line = raw[pos:line_end]
            if not line.strip(b"\r\n") or not _is_field_line(line):
                break
            pos = line_end
        body_start = pos
        while pos < end:
            nl = raw.find(b"\n", pos, end)
            line_end = end if nl < 0 else nl + 1
            if not raw[pos:line_end].strip(b"\r\n"):
                break
            pos = line_end
        blocks.append((header_start, body_start, pos))
        if pos < end:
            nl = raw.find(b"\n", pos, end)
            pos = end if nl < 0 else nl + 1
    return blocks


def locate(raw: bytes, parts: Sequence[Any]) -> list[Span]:
    """Byte offsets for a part table that has none (the pure walk's ``-1``), found by
    following the multipart boundaries the way ``email.feedparser`` does for well-formed
    input. Parts that cannot be located get an empty span at the end of their parent."""
    children: dict[int, list[Any]] = {}
    for p in parts:
        children.setdefault(p.parent, []).append(p)
    spans: dict[int, Span] = {}

    def strip_target(part: Any) -> Any | None:
        """The node whose line end email.feedparser strips after a multipart's child: the
        child itself when it is a leaf, the enclosed message's for message/*, none for a
        multipart."""
        while part is not None:
            if part.content_type.startswith("multipart/"):
                return None
            if not part.content_type.startswith("message/") or part.is_leaf:
                return part
            kids = children.get(part.aid, [])
            part = kids[0] if kids else None
        return None

    def place(part: Any, start: int, end: int) -> None:
        _, body_at = split_head(raw[start:end])
        body_start = start + body_at
        spans[part.aid] = Span(
            part.aid,
            part.parent,
            part.is_leaf,
            start,
            body_start,
            end,
            part.transfer_encoding,
            part.charset,
        )
        kids = children.get(part.aid, [])
        if not kids:
            return
        if part.content_type.startswith("multipart/"):
            boundary = dict(part.params).get("boundary", "")
            delimiter = b"--" + boundary.encode("utf-8", "surrogateescape")
            marks: list[tuple[int, int]] = []  # (line start, line end) of delimiter lines
            pos = body_start
            while pos < end:
                nl = raw.find(b"\n", pos, end)
                line_end = end if nl < 0 else nl + 1
                kind = _boundary_line(raw[pos:line_end], delimiter)
                if kind is not None:
                    if marks and marks[-1][1] == pos and not kind:
                        marks[-1] = (marks[-1][0], line_end)  # delimiters in a row: one
                    else:
                        marks.append((pos, line_end))
                    if kind:
                        break
                pos = line_end
            for i, kid in enumerate(kids):
                if i >= len(marks):
                    place(kid, end, end)
                    continue
                kid_start = marks[i][1]
                kid_end = marks[i + 1][0] if i + 1 < len(marks) else end
                place(kid, kid_start, max(kid_start, kid_end))
                target = strip_target(kid)
                if target is not None and target.aid in spans:
                    span = spans[target.aid]
                    cut = span.body_end
                    if raw[cut - 2 : cut] == b"\r\n" and cut - 2 >= span.body_start:
                        cut -= 2
                    elif raw[cut - 1 : cut] == b"\n" and cut - 1 >= span.body_start:
                        cut -= 1
                    spans[target.aid] = Span(
                        span.aid,
                        span.parent,
                        span.is_leaf,
                        span.header_start,
                        span.body_start,
                        cut,
                        span.transfer_encoding,
                        span.charset,
                    )
        elif part.content_type == "message/delivery-status":
            # blocks of fields separated by blank lines, one part each (email.feedparser)
            for kid, (hs, bs, be) in zip(kids, _status_blocks(raw, body_start, end), strict=False):
                spans[kid.aid] = Span(
                    kid.aid, kid.parent, kid.is_leaf, hs, bs, be, kid.transfer_encoding, kid.charset
                )
        else:  # message/*: the body is the enclosed message
            for kid in kids:
                place(kid, body_start, end)

    roots = children.get(0, [])
    if roots:
        place(roots[0], 0, len(raw))
    return [
        spans.get(p.aid)
        or Span(
            p.aid, p.parent, p.is_leaf, len(raw), len(raw), len(raw), p.transfer_encoding, p.charset
        )
        for p in parts
    ]


def apply(raw: bytes, parts: Sequence[PartSpan], edits: Iterable[Edit]) -> Copy:
    """The copy of ``raw`` that ``edits`` describe."""
    edits = tuple(edits)
    if (
        parts
        and parts[0].header_start < 0
        and any(isinstance(e, RemoveAttachments | AddDisclaimer) for e in edits)
    ):
        parts = locate(raw, parts)
    original, body_at = split_head(raw)
    fields = original
    eol = line_ending(raw)
    by_aid = {p.aid: p for p in parts}
    removed: dict[int, _Generated] = {}  # aid -> replacement
    leaf_text: dict[int, tuple[DisclaimerTarget, str, str]] = {}  # aid -> (target, pre, post)
    wrap = False
    boundary = ""
    for edit in edits:
        if isinstance(edit, DeleteHeader):
            fields = delete_field(fields, edit.name)
        elif isinstance(edit, SetHeader):
            fields = set_field(fields, edit.name, _header_value(edit.value))
        elif isinstance(edit, PrefixMessageId):
            fields = _prefix_message_id(fields, edit.prefix)
        elif isinstance(edit, RemoveAttachments):
            if edit.make_multipart and not wrap:
                wrap = True
                boundary = f"----------=_{secrets.token_hex(8).upper()}"
            for rep in edit.replacements:
                if rep.aid in by_aid:
                    removed[rep.aid] = _Generated(rep)
        elif isinstance(edit, AddDisclaimer):
            for target in edit.targets:
                if not target.ok:
                    continue
                addition = edit.html if target.kind == "html" else edit.text
                if target.ref < 0:
                    gen = removed.get(-target.ref)
                    if gen is None:
                        continue
                    _add_to_generated(gen, target.kind, addition, edit.position)
                elif target.ref in by_aid:
                    pre, post = leaf_text.get(target.ref, (target, "", ""))[1:]
                    if edit.position == "start":
                        pre = addition + pre
                    else:
                        post = post + addition
                    leaf_text[target.ref] = (target, pre, post)
    splices: list[tuple[int, int, bytes]] = []
    top = by_aid.get(1)
    for aid, gen in removed.items():
        part = by_aid[aid]
        if aid == 1 or part.parent == 0:
            continue  # the whole message: handled by the wrap below
        splices.append((part.header_start, part.body_end, _entity(gen, eol)))
    for aid, (target, pre, post) in leaf_text.items():
        part = by_aid[aid]
        if aid in removed or aid == 1 or part.parent == 0:
            continue
        new = _disclaimed_leaf(raw, part, target, pre, post, eol)
        if new is not None:
            splices.append(new)
    body = _splice(raw, body_at, len(raw), splices) if splices else raw[body_at:]
    copy = Copy(fields, body, eol, original, not splices)
    top_leaf_text = leaf_text.get(1)
    if top is not None and top_leaf_text is not None and 1 not in removed:
        _disclaim_top(copy, top, raw, body_at, *top_leaf_text)
        copy.body_unchanged = False
    if wrap:
        _make_multipart(copy, boundary, removed.get(1))
        copy.body_unchanged = False
    return copy


# --- headers --------------------------------------------------------------------------------


def _header_value(value: str) -> bytes:
    """A value from the engine (already encoded and folded with ``\\n``) as field bytes."""
    text = value.replace("\r\n", "\n")
    return b" " + text.encode("utf-8", "surrogateescape")


def _prefix_message_id(fields: list[Field], prefix: str) -> list[Field]:
    value = first_value(fields, "Message-ID")
    if value is None:
        return fields
    marker = f"{prefix}{os.getpid()}-".encode()
    at = value.find(b"<")
    new = value[: at + 1] + marker + value[at + 1 :] if at >= 0 else b" <" + marker + value.strip()
    return set_field(fields, "Message-ID", new)


# --- removed attachments --------------------------------------------------------------------


def _add_to_generated(gen: _Generated, kind: str, text: str, position: str) -> None:
    html = "html" in gen.replacement.content_type
    if (kind == "html") != html:
        return
    if html:
        if position == "start":
            gen.html_prefix = text + gen.html_prefix
        else:
            gen.html_suffix += text
    elif position == "start":
        gen.prefix = text + gen.prefix
    else:
        gen.suffix += text


def _entity(gen: _Generated, eol: bytes) -> bytes:
    rep = gen.replacement
    text = gen.prefix + gen.html_prefix + rep.text + gen.html_suffix + gen.suffix
    name = rep.filename.replace('"', "")
    head = (
        f'Content-Type: {rep.content_type}; charset="UTF-8"; name="{name}"\n'
        f'Content-Disposition: attachment; filename="{name}"\n'
        "Content-Transfer-Encoding: quoted-printable\n"
    )
    data = quopri.encodestring(text.replace("\r\n", "\n").encode("utf-8"))
    return (head.encode() + b"\n" + data).replace(b"\n", eol)


def _make_multipart(copy: Copy, boundary: str, replacement: _Generated | None) -> None:
    """PMG's ``make_multipart('mixed')``: the content fields move into the only part."""
    inner = [f for f in copy.fields if _CONTENT_FIELD.fullmatch(f.key)]
    outer = [f for f in copy.fields if not _CONTENT_FIELD.fullmatch(f.key)]
    eol = copy.eol
    if replacement is not None:
        entity = _entity(replacement, eol)
    else:
        entity = join_head(inner, eol) + eol + copy.body.rstrip(b"\r\n")
    if first_value(outer, "MIME-Version") is None:
        outer.append(Field("MIME-Version", b" 1.0"))
    outer.append(Field("Content-Type", f' multipart/mixed;\n boundary="{boundary}"'.encode()))
    b = boundary.encode()
    copy.fields = outer
    copy.body = (
        b"This is a multi-part message in MIME format."
        + eol
        + eol
        + b"--"
        + b
        + eol
        + entity
        + eol
        + b"--"
        + b
        + b"--"
        + eol
    )


# --- disclaimers ----------------------------------------------------------------------------


def _decode(data: bytes, cte: str) -> bytes:
    if cte == "base64":
        return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", data) + b"==", validate=False)
    if cte == "quoted-printable":
        return quopri.decodestring(data)
    return data


def _encode(data: bytes, cte: str, eol: bytes, trailing_eol: bool = True) -> bytes:
    """``data`` in transfer encoding ``cte``; ``trailing_eol``: end with a line end (as the
    encoded body being replaced did)."""
    if cte == "base64":
        b64 = base64.b64encode(data)
        out = eol.join(b64[i : i + 76] for i in range(0, len(b64), 76))
        return out + eol if trailing_eol and out else out
    if cte == "quoted-printable":
        out = quopri.encodestring(data.replace(b"\r\n", b"\n")).replace(b"\n", eol)
        if not trailing_eol and out.endswith(eol):
            out = out[: -len(eol)]
        elif trailing_eol and out and not out.endswith(eol):
            out += b"=" + eol  # a soft line break keeps the decoded text unchanged
        return out
    return data


def _insert(body: str, pre: str, post: str, html: bool, eol: str) -> str:
    pre = pre.replace("\n", eol)
    post = post.replace("\n", eol)
    if html:
        if pre:
            m = _BODY_OPEN.search(body)
            at = m.end() if m else 0
            body = body[:at] + pre + body[at:]
        if post:
            closes = list(_BODY_CLOSE.finditer(body))
            if closes:
                at = closes[-1].start()
                body = body[:at] + post + body[at:]
            else:
                body = body + ("" if body.endswith("\n") else eol) + post
        return body
    if post and body and not body.endswith("\n"):
        body += eol
    return pre + body + post


def _new_text(
    data: bytes, cte: str, charset: str, pre: str, post: str, html: bool, eol: bytes
) -> tuple[bytes, str] | None:
    """The re-encoded body with the disclaimer, and the transfer encoding it now needs."""
    try:
        codecs.lookup(charset)
        text = _decode(data, cte).decode(charset, "surrogateescape")
        new = _insert(text, pre, post, html, eol.decode()).encode(charset, "surrogateescape")
    except (LookupError, UnicodeError, ValueError):
        return None
    trailing = data.endswith(b"\n")
    if cte in ("base64", "quoted-printable"):
        return _encode(new, cte, eol, trailing), cte
    if cte in ("8bit", "binary") or new.isascii():
        return new, cte
    return _encode(new, "quoted-printable", eol, trailing), "quoted-printable"


def _disclaimed_leaf(
    raw: bytes, part: PartSpan, target: DisclaimerTarget, pre: str, post: str, eol: bytes
) -> tuple[int, int, bytes] | None:
    cte = (part.transfer_encoding or "7bit").lower()
    charset = target.charset or part.charset or "us-ascii"
    result = _new_text(
        raw[part.body_start : part.body_end], cte, charset, pre, post, target.kind == "html", eol
    )
    if result is None:
        return None
    body, new_cte = result
    if new_cte == cte:
        return part.body_start, part.body_end, body
    fields, _ = split_head(raw[part.header_start : part.body_start])
    fields = set_field(fields, "Content-Transfer-Encoding", b" " + new_cte.encode())
    return part.header_start, part.body_end, join_head(fields, eol) + eol + body


def _disclaim_top(
    copy: Copy,
    top: PartSpan,
    raw: bytes,
    body_at: int,
    target: DisclaimerTarget,
    pre: str,
    post: str,
) -> None:
    cte = (top.transfer_encoding or "7bit").lower()
    charset = target.charset or top.charset or "us-ascii"
    end = len(raw)
    data = raw[body_at:end]
    trailing = data[len(data.rstrip(b"\r\n")) :]
    result = _new_text(
        data.rstrip(b"\r\n"), cte, charset, pre, post, target.kind == "html", copy.eol
    )
    if result is None:
        return
    body, new_cte = result
    copy.body = body + (trailing or copy.eol)
    if new_cte != cte:
        copy.fields = set_field(copy.fields, "Content-Transfer-Encoding", b" " + new_cte.encode())


def _splice(raw: bytes, start: int, end: int, splices: list[tuple[int, int, bytes]]) -> bytes:
    """``raw[start:end]`` with the (non-overlapping; an inner one inside an outer one is
    dropped) ranges replaced."""
    ordered = sorted(splices, key=lambda s: (s[0], -s[1]))
    out = []
    pos = start
    for s, e, data in ordered:
        if s < pos:
            continue  # inside an earlier (outer) replacement
        out.append(raw[pos:s])
        out.append(data)
        pos = e
    out.append(raw[pos:end])
    return b"".join(out)
