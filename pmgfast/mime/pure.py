"""The pure-Python MIME walk: the stdlib ``email`` package finds the structure, the shared
algorithms in :mod:`pmgfast.mime.text` and :mod:`pmgfast.mime.mimedb` fill in the table.

This is the reference the Rust walk is tested against. It parses with ``BytesFeedParser`` and
the compat32 policy (the feedparser the Rust crate reproduces), adding one thing: containers at
``max_depth`` are parsed as opaque leaves (``TooDeepDefect``), by a message class that reports
them as ``text/plain`` while the parser runs. Header parameters are read with the stdlib's own
``_parseparam`` and ``decode_params`` on the raw header value, so 8-bit bytes survive into
file names (the stdlib's ``get_filename`` would turn them into U+FFFD).
"""

from __future__ import annotations

from email import message as _message
from email import utils as _utils
from email._policybase import compat32
from email.feedparser import BytesFeedParser
from typing import Any

from pmgfast.mime import mimedb, text
from pmgfast.mime.model import Defect, Limits, Message, Part

_Params = list[tuple[str, Any]]
_splitparam = _message._splitparam  # type: ignore[attr-defined]


class _Msg(_message.Message):
    """A compat32 message that can hide its container type while the parser runs."""

    _pmg_deep = False
    _pmg_state: dict[str, bool] = {"parsing": False}  # noqa: RUF012 (replaced per walk)

    def get_boundary(self, failobj: Any = None) -> Any:
        """The stdlib's, except that a parameter list it cannot read (RFC 2231 sections
        both numbered and not make ``decode_params`` raise ``TypeError``) means no boundary,
        as in the native walk, instead of an exception out of the parser."""
        try:
            return super().get_boundary(failobj)
        except TypeError:
            return failobj

    def get_content_type(self) -> str:
        real = super().get_content_type()
        if (
            self._pmg_deep
            and self._pmg_state["parsing"]
            and real.split("/")[0] in ("multipart", "message")
        ):
            return "text/plain"
        return real


def _parse(data: bytes, max_depth: int) -> _Msg:
    state = {"parsing": True}
    holder: list[BytesFeedParser] = []

    def factory(policy: Any = compat32) -> _Msg:
        m = _Msg(policy)
        m._pmg_state = state
        depth = len(holder[0]._msgstack) if holder else 0  # type: ignore[attr-defined]
        m._pmg_deep = bool(max_depth) and depth >= max_depth
        return m

    parser = BytesFeedParser(_factory=factory, policy=compat32)
    holder.append(parser)
    parser.feed(data)
    root = parser.close()
    state["parsing"] = False
    return root  # type: ignore[return-value]


def _b(s: str) -> bytes:
    """A parsed string back to the message's bytes (8-bit bytes are surrogate escapes; RFC
    2231 percent-decoding leaves code points below 256)."""
    return s.encode("latin-1", "surrogateescape")


def _first(msg: _Msg, name: str) -> str | None:
    low = name.lower()
    for k, v in msg._headers:  # type: ignore[attr-defined]
        if k.lower() == low:
            return str(v)
    return None


def _params(msg: _Msg, header: str) -> _Params | None:
    """``Message._get_params_preserve`` on the raw value; None when absent or unparseable."""
    value = _first(msg, header)
    if value is None:
        return None
    params = []
    for p in _message._parseparam(value):  # type: ignore[attr-defined]
        name, sep, val = p.partition("=")
        params.append((name.strip(), val.strip()) if sep else (p.strip(), ""))
    try:
        return _utils.decode_params(params)
    except TypeError:  # RFC 2231 sections both numbered and not: the stdlib cannot sort them
        return None


def _get(params: _Params | None, name: str) -> Any:
    for k, v in params or ():
        if k.lower() == name:
            return _message._unquotevalue(v)  # type: ignore[attr-defined]
    return None


def _value_text(v: Any) -> str:
    if isinstance(v, tuple):
        charset, _lang, val = v
        return text.decode_charset(_b(val), _b(charset) if charset else None)[0]
    return text.guess(_b(v))


def _filename(msg: _Msg) -> str | None:
    v = _get(_params(msg, "content-disposition"), "filename")
    if v is None:
        v = _get(_params(msg, "content-type"), "name")
    if v is None:
        return None
    name = text.decode_header(_b(_utils.unquote(v))) if isinstance(v, str) else _value_text(v)
    name = name.replace("\0", " ").strip()
    return name or None


def _default_name(ctype: str) -> str:
    if ctype.startswith("text/"):
        return "msg.txt"
    if ctype == "application/octet-stream":
        return "msg.bin"
    if ctype.startswith("audio/"):
        return "msg.snd"
    if ctype.startswith("image/"):
        return "msg.img"
    return "msg.dat"


def _flatten(root: _Msg) -> list[tuple[_Msg, int, int]]:
    out: list[tuple[_Msg, int, int]] = []
    todo: list[tuple[_Msg, int, int]] = [(root, 0, 0)]
    while todo:
        msg, parent, depth = todo.pop()
        out.append((msg, parent, depth))
        aid = len(out)
        payload = msg._payload  # type: ignore[attr-defined]
        if isinstance(payload, list):
            todo.extend((sub, aid, depth + 1) for sub in reversed(payload))
    return out


def walk(raw: bytes, limits: Limits = Limits()) -> Message:  # noqa: B008 (frozen)
    """Walk ``raw`` with the stdlib parser; see :mod:`pmgfast.mime` for the table."""
    truncated = bool(limits.max_size) and len(raw) > limits.max_size
    data = raw[: limits.max_size] if truncated else raw
    nodes = _flatten(_parse(data, limits.max_depth))
    keep = len(nodes) if not limits.max_parts else min(len(nodes), limits.max_parts)
    parts: list[Part] = []
    defects: list[Defect] = []
    bodies: dict[int, bytes] = {}
    uris: dict[str, None] = {}
    domains: dict[str, None] = {}
    for i, (msg, parent, depth) in enumerate(nodes[:keep]):
        aid = i + 1
        names = [type(d).__name__ for d in msg.defects]
        real = msg.get_content_type()
        if msg._pmg_deep and real.split("/")[0] in ("multipart", "message"):
            names.append("TooDeepDefect")
        defects.extend(Defect(aid, n) for n in names)
        ctype = real
        if "NoBoundaryInMultipartDefect" in names:
            ctype = "application/x-unparseable-multipart"
        ct_params = _params(msg, "content-type") or []
        cs = _get(ct_params, "charset")
        cs_raw = None if cs is None else _b(cs[2] if isinstance(cs, tuple) else cs)
        charset = (
            cs_raw.decode("ascii").lower() if cs_raw is not None and cs_raw.isascii() else None
        )
        cte_raw = _first(msg, "content-transfer-encoding")
        cte = "" if cte_raw is None else text.guess(_b(cte_raw.strip().lower()))
        disp_raw = _first(msg, "content-disposition")
        disp = None if disp_raw is None else text.guess(_b(_splitparam(disp_raw)[0].lower()))
        filename = _filename(msg)
        params = tuple(
            (text.guess(_b(k)), _value_text(_message._unquotevalue(v)))  # type: ignore[attr-defined]
            for k, v in ct_params[1:]
        )
        headers = tuple(
            (text.guess(_b(k)), text.decode_header(_b(str(v))))
            for k, v in msg._headers  # type: ignore[attr-defined]
        )
        payload = msg._payload  # type: ignore[attr-defined]
        is_leaf = not isinstance(payload, list)
        magic_type = glob_type = body_text = html_text = None
        size = 0
        if is_leaf:
            decoded, dd = text.decode_body(_b(payload or ""), cte)
            defects.extend(Defect(aid, d) for d in dd)
            bodies[aid] = decoded
            size = len(decoded)
            magic_type = mimedb.magic(decoded)
            glob_type = mimedb.glob(filename if filename is not None else _default_name(ctype))
            if ctype.startswith("text/"):
                body_text, errors, unknown = text.decode_charset(decoded, cs_raw)
                if unknown:
                    defects.append(Defect(aid, "UnknownCharsetDefect"))
                if errors:
                    defects.append(Defect(aid, "CharsetDecodeDefect"))
                for uri, host in text.scan_uris(body_text):
                    uris.setdefault(uri)
                    domains.setdefault(host)
                if ctype == "text/html":
                    html_text = text.html_to_text(body_text)
        parts.append(
            Part(
                aid,
                parent,
                depth,
                ctype,
                params,
                charset,
                cte,
                disp,
                filename,
                is_leaf,
                magic_type,
                glob_type,
                -1,
                -1,
                -1,
                size,
                body_text,
                html_text,
                headers,
            )
        )
    if truncated:
        defects.append(Defect(1, "TruncatedDefect"))
    if keep < len(nodes):
        defects.append(Defect(1, "TooManyPartsDefect"))
    return Message(parts, defects, list(uris), list(domains), lambda p: bodies.get(p.aid, b""))
