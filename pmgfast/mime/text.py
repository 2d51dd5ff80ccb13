"""The text algorithms both MIME walks share, in pure Python (the Rust crate repeats each one).

- :func:`decode_body`: transfer decoding with the stdlib's own leniency (``decode_b`` from the
  ``email`` package for base64, ``quopri``/``binascii`` for quoted-printable).
- :func:`decode_charset` and :func:`guess`: bytes to text under WHATWG charset labels
  (``webencodings`` names the encoding), a byte-order mark winning over the label; no label,
  ``us-ascii`` or an unknown label: UTF-8 when valid, else windows-1252.
- :func:`decode_header`: unfolding plus RFC 2047 encoded words (see the Rust ``rfc2047.rs``).
- :func:`html_to_text`: the visible text of an HTML part by a small fixed algorithm.
- :func:`scan_uris`: URIs and their hosts in text.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Iterator
from email._encoded_words import decode_b
from html.entities import name2codepoint

import webencodings

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16le"), (b"\xfe\xff", "utf-16be"))
_GUESS_LABELS = {b"", b"us-ascii", b"ascii", b"unknown-8bit", b"x-unknown", b"unknown", b"default"}
_SINGLE_BYTE = {
    "ibm866",
    "iso-8859-2",
    "iso-8859-3",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-6",
    "iso-8859-7",
    "iso-8859-8",
    "iso-8859-8-i",
    "iso-8859-10",
    "iso-8859-13",
    "iso-8859-14",
    "iso-8859-15",
    "iso-8859-16",
    "koi8-r",
    "koi8-u",
    "macintosh",
    "windows-874",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1256",
    "windows-1257",
    "windows-1258",
    "x-mac-cyrillic",
    "x-user-defined",
}
# Where a Python codec and the WHATWG index differ on a byte (WHATWG wins). Besides these, the
# WHATWG windows-* indexes map every byte 0x80-0x9F the vendor left undefined to the C1 control
# of the same number, where Python's cp125x codecs fail.
_SINGLE_BYTE_FIXES: dict[str, dict[int, str]] = {
    "koi8-u": {0xAE: "\u045e", 0xBE: "\u040e"},  # WHATWG's KOI8-U is KOI8-RU here
    "windows-1255": {0xCA: "\u05ba"},
}
# Python codecs for the WHATWG multi-byte decoders (webencodings' choice unless listed).
_MULTI_BYTE_CODECS = {"gbk": "gb18030"}
_tables: dict[str, tuple[dict[int, str], frozenset[int]]] = {}


def decode_body(body: bytes, transfer_encoding: str) -> tuple[bytes, list[str]]:
    """A leaf's body decoded under its (stripped, lower-cased) transfer encoding."""
    if transfer_encoding == "base64":
        value, defects = decode_b(b"".join(body.splitlines()))
        return value, [type(d).__name__ for d in defects]
    if transfer_encoding == "quoted-printable":
        return binascii.a2b_qp(body), []
    return body, []


def guess(data: bytes) -> str:
    """UTF-8 when valid, otherwise windows-1252 (every byte maps)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _single_byte(data, "windows-1252")[0]


def _table(name: str) -> tuple[dict[int, str], frozenset[int]]:
    """The 256-entry decode table of a WHATWG single-byte encoding, and its unmapped bytes."""
    if name not in _tables:
        table: dict[int, str] = {}
        bad = set()
        if name == "x-user-defined":
            table = {b: chr(b if b < 0x80 else 0xF780 + b - 0x80) for b in range(256)}
        else:
            codec = webencodings.lookup(name).codec_info.name
            for b in range(256):
                try:
                    table[b] = bytes([b]).decode(codec)
                except UnicodeDecodeError:
                    if name.startswith("windows-") and 0x80 <= b <= 0x9F:
                        table[b] = chr(b)
                    else:
                        table[b] = "\ufffd"
                        bad.add(b)
        for b, c in _SINGLE_BYTE_FIXES.get(name, {}).items():
            table[b] = c
            if c == "\ufffd":
                bad.add(b)
            else:
                bad.discard(b)
        _tables[name] = (table, frozenset(bad))
    return _tables[name]


def _single_byte(data: bytes, name: str) -> tuple[str, bool]:
    table, bad = _table(name)
    text = data.decode("latin-1").translate(table)
    return text, bool(bad) and any(b in bad for b in set(data))


def _whatwg(data: bytes, name: str) -> tuple[str, bool]:
    if name in _SINGLE_BYTE:
        return _single_byte(data, name)
    if name == "replacement":
        return ("\ufffd", True) if data else ("", False)
    codec = _MULTI_BYTE_CODECS.get(name) or webencodings.lookup(name).codec_info.name
    try:
        return data.decode(codec), False
    except UnicodeDecodeError:
        return data.decode(codec, "replace"), True


def decode_charset(data: bytes, label: bytes | None) -> tuple[str, bool, bool]:
    """``data`` as text: ``(text, had_errors, unknown_label)``."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            text, errors = _whatwg(data[len(bom) :], name)
            return text, errors, False
    lab = (label or b"").strip(b"\t\n\x0c\r ").lower()
    if lab in _GUESS_LABELS:
        return guess(data), False, False
    enc = webencodings.lookup(lab.decode("latin-1")) if lab.isascii() else None
    if enc is None:
        return guess(data), False, True
    text, errors = _whatwg(data, enc.name)
    return text, errors, False


_WS = b" \t\r\n\x0b\x0c"


def _word_at(s: bytes, i: int) -> tuple[int, bytes, bytes] | None:
    """An encoded word at ``s[i:]``: (end, charset, decoded bytes)."""
    j = i + 2
    while j < len(s) and s[j] != 0x3F and s[j] not in _WS:
        j += 1
    if j == i + 2 or j + 2 >= len(s) or s[j] != 0x3F:
        return None
    cs = s[i + 2 : j]
    enc = s[j + 1]
    if enc not in b"bBqQ" or s[j + 2] != 0x3F:
        return None
    k = j + 3
    while k < len(s) and s[k] != 0x3F and s[k] not in _WS:
        k += 1
    if k + 1 >= len(s) or s[k] != 0x3F or s[k + 1] != 0x3D:
        return None
    text = s[j + 3 : k]
    if enc in b"bB":
        value, defects = decode_b(text)
        if any(type(d).__name__ == "InvalidBase64LengthDefect" for d in defects):
            return None
    else:
        value = binascii.a2b_qp(text.replace(b"_", b" "))
    return k + 2, cs.split(b"*", 1)[0], value


def decode_header(raw: bytes) -> str:
    """A raw header value (possibly folded) as readable text."""
    s = raw.replace(b"\r", b"").replace(b"\n", b"")
    if b"=?" not in s:
        return guess(s)
    words: list[tuple[int, int, bytes, bytes]] = []
    i = 0
    while True:
        at = s.find(b"=?", i)
        if at < 0:
            break
        w = _word_at(s, at)
        if w is None:
            i = at + 2
        else:
            words.append((at, w[0], w[1], w[2]))
            i = w[0]
        if i >= len(s):
            break
    out: list[str] = []
    pos = 0
    n = 0
    while n < len(words):
        start, end, cs, value = words[n]
        lit = s[pos:start]
        if not (n > 0 and all(c in _WS for c in lit)):
            out.append(guess(lit))
        joined = bytearray(value)
        m = n + 1
        stateful = cs.lower().startswith(b"iso-2022")
        while (
            not stateful
            and m < len(words)
            and words[m][2].lower() == cs.lower()
            and all(c in _WS for c in s[end : words[m][0]])
        ):
            joined += words[m][3]
            end = words[m][1]
            m += 1
        out.append(decode_charset(bytes(joined), cs)[0])
        pos = end
        n = m
    out.append(guess(s[pos:]))
    return "".join(out)


ENTITIES = {**{name: chr(cp) for name, cp in name2codepoint.items()}, "apos": "'"}
_BLOCK = {
    "br",
    "p",
    "div",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
    "hr",
    "title",
    "dt",
    "dd",
    "pre",
}
_HWS = " \t\r\x0b\x0c\xa0"
_HWS_RE = re.compile("[" + re.escape(_HWS) + "]+")
_NAME_RE = re.compile(r"/?([A-Za-z0-9]*)", re.ASCII)
_DEC = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")


def _entity(s: str, i: int) -> tuple[str, int] | None:
    """The character of an entity whose text starts at ``s[i]`` (after '&'), and how many
    characters it spans; the ';' must come within 40 bytes, as in the Rust twin."""
    chunk = s[i : i + 40].encode("utf-8")[:40]
    semi = chunk.find(b";")
    if semi < 0:
        return None
    body = chunk[:semi].decode("utf-8")
    if body.startswith("#"):
        hexa = body[1:2] in ("x", "X")
        digits, radix, allowed = (body[2:], 16, _HEX) if hexa else (body[1:], 10, _DEC)
        if not digits or any(c not in allowed for c in digits):
            return None
        v = int(digits, radix)
        ok = 0 < v <= 0x10FFFF and not 0xD800 <= v <= 0xDFFF
        return (chr(v) if ok else "\ufffd"), len(body) + 1
    c = ENTITIES.get(body)
    return (c, len(body) + 1) if c is not None else None


def _find_ci(s: str, needle: str, start: int) -> int:
    """ASCII case-insensitive find (the needle is ASCII lower case)."""
    n = len(needle)
    first = needle[0]
    i = start
    while True:
        i = s.find(first, i)
        if i < 0:
            return -1
        if s[i : i + n].encode("utf-8").lower() == needle.encode():
            return i
        i += 1


def html_to_text(html: str) -> str:
    """The visible text of an HTML document (same algorithm as the Rust ``html.rs``)."""
    parts: list[str] = []
    i = 0
    run = 0
    n = len(html)
    while i < n:
        c = html[i]
        if c == "<":
            if html.startswith("<!--", i):
                parts.append(html[run:i])
                end = html.find("-->", i + 4)
                i = n if end < 0 else end + 3
                run = i
                continue
            close = html.find(">", i + 1)
            if close < 0:
                i += 1
                continue
            parts.append(html[run:i])
            tag = html[i + 1 : close]
            closing = tag.startswith("/")
            m = _NAME_RE.match(tag)
            name = (m.group(1) if m else "").lower()
            i = close + 1
            if not closing and name in ("script", "style"):
                p = _find_ci(html, "</" + name, i)
                if p < 0:
                    i = n
                else:
                    q = html.find(">", p)
                    i = n if q < 0 else q + 1
            elif name in _BLOCK:
                parts.append("\n")
            elif name in ("td", "th"):
                parts.append(" ")
            run = i
        elif c == "&":
            e = _entity(html, i + 1)
            if e is None:
                i += 1
            else:
                parts.append(html[run:i])
                parts.append(e[0])
                i += 1 + e[1]
                run = i
        else:
            nxt = min((p for p in (html.find("<", i), html.find("&", i)) if p >= 0), default=n)
            i = nxt
    parts.append(html[run:])
    lines = []
    for line in "".join(parts).split("\n"):
        words = [w for w in _HWS_RE.split(line) if w]
        if words:
            lines.append(" ".join(words))
    return "\n".join(lines)


_STOP = frozenset("<>\"'`(){}[]|\\^")
_URI_START = re.compile(r"https?://|ftp://|www\.", re.IGNORECASE | re.ASCII)


def host_of(uri: str) -> str | None:
    """The host of a URI found by :func:`scan_uris`, if it has one worth keeping."""
    p = uri.find("://")
    rest = uri[p + 3 :] if p >= 0 else uri
    end = min(
        (q for q in (rest.find("/"), rest.find("?"), rest.find("#")) if q >= 0), default=len(rest)
    )
    host = rest[:end]
    host = host[host.rfind("@") + 1 :]
    colon = host.find(":")
    if colon >= 0:
        host = host[:colon]
    host = host.rstrip(".")
    if not host or "." not in host:
        return None
    return host.lower()


def _stops(c: str) -> bool:
    return c <= " " or c >= "\x7f" or c in _STOP


def scan_uris(text: str) -> Iterator[tuple[str, str]]:
    """``(uri, host)`` for every URI in ``text``, in order."""
    i = 0
    n = len(text)
    while True:
        m = _URI_START.search(text, i)
        if m is None:
            return
        i = m.start()
        length = m.end() - m.start()
        if length == 4:  # www.
            prev = text[i - 1] if i > 0 else ""
            if prev and ((prev.isascii() and prev.isalnum()) or prev in ".-/@"):
                i += 1
                continue
        end = i + length
        while end < n and not _stops(text[end]):
            end += 1
        while end > i + length and text[end - 1] in ".,;:!?":
            end -= 1
        uri = text[i:end]
        host = host_of(uri)
        if host is not None:
            yield uri, host
        i = max(end, i + length)


def collect(texts: Iterator[str], add: Callable[[str, str], None]) -> None:
    """Feed every URI of every text to ``add(uri, host)``."""
    for t in texts:
        for uri, host in scan_uris(t):
            add(uri, host)
