"""RFC 2047 encoded words for header values the rules write, exactly as PMG writes them.

PMG encodes each line of a header value with MIME-tools' ``encode_mimewords`` (version 5.510,
``Charset => 'UTF-8'``): the UTF-8 bytes are cut into runs of letters, digits and 8-bit bytes
plus the whitespace after them; a run that holds a control or 8-bit byte becomes one
``=?UTF-8?Q?...?=`` word; two encoded words that touch get a space between them.
"""

from __future__ import annotations

import re

_WORD = re.compile(rb"[a-zA-Z0-9\x7f-\xff]+\s*")
_NONPRINT = re.compile(rb"[\x00-\x1f\x7f-\xff]")
_Q_SPECIAL = re.compile(rb"[ _?=\x00-\x1f\x7f-\xff]")


def _q_encode(match: re.Match[bytes]) -> bytes:
    return b"=%02X" % match.group(0)[0]


def _word(match: re.Match[bytes]) -> bytes:
    word = match.group(0)
    if not _NONPRINT.search(word):
        return word
    return b"=?UTF-8?Q?" + _Q_SPECIAL.sub(_q_encode, word) + b"?="


def encode_mimewords(text: str) -> str:
    """``text`` with every unsafe word Q-encoded (pure ASCII text comes back unchanged)."""
    if text.isascii() and text.isprintable():
        return text
    raw = _WORD.sub(_word, text.encode("utf-8", "surrogateescape"))
    return raw.replace(b"?==?", b"?= =?").decode("latin-1")
