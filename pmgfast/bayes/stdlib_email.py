"""A :class:`TokenizerInput` built with the standard library's ``email`` package.

This is a stand-in for the MIME walk (``pmgfast.mime``), which will give the scanner decoded
text, HTML as plain text, URIs and headers in one pass; the tests and the benchmark use this
module to feed real corpus messages to the tokenizer meanwhile. It is deliberately plain: the
stdlib parser with the lenient ``compat32`` policy, charset fallbacks, and ``html.parser`` for
HTML. Like everything that reads mail it never raises on malformed input: what cannot be
decoded is decoded with replacement characters or left out.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.message
import email.policy
import email.utils
import re
from html.parser import HTMLParser

from pmgfast.bayes.features import TokenizerInput

__all__ = ["from_bytes", "from_message"]

_URL = re.compile(r"""(?:https?|ftp)://[^\s<>"'()]+|www\.[^\s<>"'()]+""", re.IGNORECASE)
_SKIP_TAGS = frozenset({"script", "style"})
_URL_ATTRS = frozenset({"href", "src"})


class _HtmlText(HTMLParser):
    """The text of an HTML document (script and style left out) and its href/src URIs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.uris: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        for name, value in attrs:
            if name in _URL_ATTRS and value:
                self.uris.append(value)
        self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skipping:
            self._skipping -= 1
        self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.chunks.append(data)


def _html_text(html: str) -> tuple[str, list[str]]:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's few hard failures on broken markup
        pass
    return "".join(parser.chunks), parser.uris


def _header(value: object) -> str:
    """A header value with RFC 2047 encoded words decoded (as far as they decode)."""
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))  # type: ignore[arg-type]
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError, TypeError):
        return str(value)


def _decode(payload: bytes, charset: str | None) -> str:
    try:
        return payload.decode(charset or "latin-1", errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("latin-1")


def from_message(msg: email.message.Message) -> TokenizerInput:
    """The tokenizer's view of a parsed message."""
    content_types: list[str] = []
    charsets: list[str] = []
    texts: list[str] = []
    uris: list[str] = []
    for part in msg.walk():
        content_types.append(part.get_content_type())
        charset = part.get_content_charset()
        if charset:
            charsets.append(charset)
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if str(part.get("Content-Disposition", "")).strip().lower().startswith("attachment"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text = _decode(payload, charset)
        if part.get_content_subtype() == "html":
            text, links = _html_text(text)
            uris.extend(links)
        uris.extend(_URL.findall(text))
        texts.append(text)
    name, addr = email.utils.parseaddr(_header(msg.get("From")))
    return TokenizerInput(
        subject=_header(msg.get("Subject")),
        from_addr=addr,
        from_name=name,
        received=tuple(str(v) for v in msg.get_all("Received", [])),
        content_types=tuple(content_types),
        charsets=tuple(charsets),
        header_names=tuple(msg.keys()),
        texts=tuple(texts),
        uris=tuple(uris),
    )


def from_bytes(raw: bytes) -> TokenizerInput:
    """The tokenizer's view of a raw RFC 822 message."""
    return from_message(email.message_from_bytes(raw, policy=email.policy.compat32))
