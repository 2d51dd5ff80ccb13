"""The MIME walk: raw message bytes in, a flat part table out.

``walk(raw, limits)`` returns a :class:`Message` whose ``parts`` list every entity of the
message in depth-first order, numbered from 1 like PMG's attachment ids (the message itself is
part 1; multipart and ``message/*`` containers get numbers too). The compiled walk
(``pmgfast_native``, crate ``rust/crates/mime``) is used when built; :mod:`pmgfast.mime.pure`,
built on the stdlib ``email`` package, is its twin and gives the same answers.

Part fields (:class:`Part`, a named tuple):

=================  ================================================================================
``aid``            the part number, from 1, depth-first
``parent``         the parent's aid (0 for the message)
``depth``          0 for the message, +1 per container level
``content_type``   the header type, lower-cased, without parameters, as ``email``'s
                   ``get_content_type()`` (missing: ``text/plain``, or ``message/rfc822`` inside
                   ``multipart/digest``; invalid: ``text/plain``); a multipart without a boundary
                   is ``application/x-unparseable-multipart`` (PMG's ``fixup_multipart``)
``params``         the Content-Type parameters ``((name, value), ...)``, names lower-cased,
                   values unquoted and RFC 2231 decoded
``charset``        the ``charset`` parameter, lower-cased (None if absent or not ASCII)
``transfer_encoding``  Content-Transfer-Encoding, stripped and lower-cased ('' if absent)
``disposition``    the Content-Disposition type, lower-cased (None if absent)
``filename``       Content-Disposition ``filename`` or else Content-Type ``name``: RFC 2231 and
                   RFC 2047 decoded, NUL made a space, trimmed (None if absent or empty)
``is_leaf``        True for a part with a body of its own, False for a container
``magic_type``     leaves: the type of the decoded body's first 40 KiB (shared-mime-info magic,
                   xdgmime fallbacks ``application/x-zerosize``/``text/plain``/
                   ``application/octet-stream``); containers: None
``glob_type``      leaves: the type of ``filename`` by shared-mime-info globs; without a file
                   name, of the name MIME::Parser would give it (``msg.txt`` for text, ``.bin``,
                   ``.snd``, ``.img``, ``.dat``), as PMG globs its dump file; containers: None
``header_start``   byte offset of the part's header in the raw message (-1 in the pure twin,
``body_start``     which cannot see offsets); the body is ``raw[body_start:body_end]``
``body_end``
``decoded_size``   bytes of the decoded body (base64 and quoted-printable undone)
``text``           text leaves: the body as text (charset converted; WHATWG labels; no or
                   unknown charset: UTF-8 if valid, else windows-1252)
``html_text``      ``text/html`` leaves: the visible text of the HTML
``headers``        every header ``((name, value), ...)`` in order, values unfolded and RFC 2047
                   decoded
=================  ================================================================================

``Message.defects`` lists ``(aid, kind)``: the stdlib's defect class names
(``StartBoundaryNotFoundDefect``, ``CloseBoundaryNotFoundDefect``, ``NoBoundaryInMultipartDefect``,
``MissingHeaderBodySeparatorDefect``, ``InvalidBase64PaddingDefect``, ...) plus
``UnknownCharsetDefect``, ``CharsetDecodeDefect``, ``TooDeepDefect``, ``TooManyPartsDefect``
and ``TruncatedDefect``. ``Message.uris`` and ``Message.domains`` are the URIs and host names
found in text leaves, first-seen order. ``Message.body(aid)`` is a leaf's decoded bytes.
"""

from __future__ import annotations

from types import ModuleType

from pmgfast import native
from pmgfast.mime import pure
from pmgfast.mime.model import Defect, Limits, Message, Part

__all__ = ["Defect", "Limits", "Message", "Part", "walk", "walk_native", "walk_pure"]

DEFAULT_LIMITS = Limits()
_NO_MODULE = object()
_rust: object = _NO_MODULE


def _module() -> ModuleType | None:
    global _rust
    if _rust is _NO_MODULE:
        _rust = native.rust()
    return _rust  # type: ignore[return-value]


def walk_native(raw: bytes, limits: Limits, rust: ModuleType) -> Message:
    """The compiled walk (``rust`` is ``pmgfast_native._native``)."""
    table, defects, uris, domains = rust.mime_walk(
        raw, limits.max_parts, limits.max_depth, limits.max_size
    )
    new = tuple.__new__
    parts = [new(Part, t) for t in table]
    found = [new(Defect, d) for d in defects]

    def body(part: Part) -> bytes:
        data: bytes = rust.mime_body(raw, part.body_start, part.body_end, part.transfer_encoding)[0]
        return data

    return Message(parts, found, uris, domains, body)


def walk_pure(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Message:
    """The pure-Python walk on the stdlib ``email`` package."""
    return pure.walk(raw, limits)


def walk(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Walk a raw message: compiled when available, else the pure twin."""
    rust = _module()
    if rust is None:
        return pure.walk(raw, limits)
    return walk_native(raw, limits, rust)
