"""One message as the content tests see it: :class:`MailView`.

Built once per message from the raw bytes and the MIME walk (:mod:`pmgfast.mime`); every
derived value is computed on first use and kept (``cached_property``), so a test that is never
run costs nothing. The message areas of the rule file:

- ``header``: the top-level header fields, decoded (RFC 2047, unfolded) and raw (unfolded);
- ``body``: the Subject, then every text part that is not an attachment, HTML as its visible
  text, one paragraph per line (lines of a paragraph joined with a space);
- ``rawbody``: the same parts decoded but not rendered (HTML as written);
- ``uri``: every URI of the message, one per line;
- ``full``: the raw message.

Everything is capped (:data:`MAX_PART_CHARS` per part), so a huge message costs bounded work.
Malformed input never raises here: what cannot be read is simply absent.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from pmgfast import mime
from pmgfast.bayes.features import TokenizerInput
from pmgfast.mime.text import decode_charset, html_to_text

__all__ = ["MAX_PART_CHARS", "Envelope", "MailView"]

MAX_PART_CHARS = 100_000
"""Characters of one text part that the body tests read."""

_PARA_BREAK = re.compile(r"\n[ \t]*\n\s*")
_WS = re.compile(r"[ \t\r\n\f\v]+")
_ANCHOR = re.compile(
    r"<a\b[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))[^>]*>(.*?)</a\s*>",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]*>")
_HREF = re.compile(r"\b(?:href|src|action)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.I)
_IMG = re.compile(r"<img\b", re.IGNORECASE)
# URIs the walk leaves out: hosts without a dot (an IP written as one number, an intranet host)
_DOTLESS_URI = re.compile(
    r"(?:https?|ftp)://[^\s<>\"'`{}|\\^\[\]/?#.]+(?=[/?#:\s<>\"']|$)[^\s<>\"']*", re.I
)
_ADDR = re.compile(r"[^\s<>\"',;()]+@[^\s<>\"',;()]+")
_EIGHT_BIT = re.compile(r"[\x80-\xff]")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP side of the message, as far as it is known (all optional)."""

    sender: str | None = None  # MAIL FROM without <> ("" for the null sender)
    client_ip: str | None = None
    helo: str | None = None
    recipients: tuple[str, ...] = ()
    client_name: str | None = None  # verified reverse DNS name; "unknown" or "[ip]": none


def _unfold_raw_headers(raw: bytes) -> list[tuple[str, str]]:
    """The top-level header fields as written (unfolded, not decoded; bytes as latin-1)."""
    end = raw.find(b"\n\n")
    end2 = raw.find(b"\r\n\r\n")
    if end2 >= 0 and (end < 0 or end2 < end):
        end = end2
    head = raw if end < 0 else raw[:end]
    fields: list[tuple[str, str]] = []
    for line in head.decode("latin-1").splitlines():
        if not line:
            break
        if line[0] in " \t":
            if fields:
                name, value = fields[-1]
                fields[-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or (" " in name.strip() and not name.startswith("From ")):
            continue
        if line.startswith("From ") and not fields:
            continue  # an mbox separator line
        fields.append((name.strip(), value.strip()))
    return fields


def _paragraphs(text: str) -> list[str]:
    out = []
    for para in _PARA_BREAK.split(text):
        line = _WS.sub(" ", para).strip()
        if line:
            out.append(line)
    return out


class MailView:
    """A message prepared for the content tests (see the module docstring)."""

    def __init__(
        self,
        raw: bytes,
        walked: mime.Message | None = None,
        envelope: Envelope = Envelope(),
        now: float | None = None,
        languages: Sequence[str] = (),
        bounce_relays: Sequence[str] = (),
    ) -> None:
        self.raw = raw
        self.message = walked if walked is not None else mime.walk(raw)
        self.envelope = envelope
        self.now = time.time() if now is None else now
        self.languages = tuple(languages)  # ok languages; empty: all
        self.bounce_relays = tuple(r.lower() for r in bounce_relays)
        # set by the engine before the tests: the joined probability and each view's
        self.bayes_probability: float | None = None
        self.bayes_views: dict[str, float] = {}
        parts = self.message.parts
        self.top_headers: tuple[tuple[str, str], ...] = parts[0].headers if parts else ()

    # --- headers --------------------------------------------------------------------------
    @cached_property
    def raw_headers(self) -> list[tuple[str, str]]:
        return _unfold_raw_headers(self.raw)

    @cached_property
    def _decoded_map(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, value in self.top_headers:
            values = found.setdefault(name.lower(), [])
            if _EIGHT_BIT.search(value):
                value = self._read_8bit(value, name.lower(), len(values))
            values.append(value)
        return found

    def _read_8bit(self, value: str, key: str, index: int) -> str:
        """A header value written in raw 8-bit bytes (no RFC 2047 words), which the walk reads
        as Latin-1, read again as mail programs do: as UTF-8 when it is valid UTF-8, else in
        the charset of the message's text (a Korean Subject in EUC-KR bytes is Korean, not
        Latin-1 mojibake). A value that does not decode cleanly stays as it was."""
        raw = self._raw_map.get(key, [])
        if index >= len(raw) or "=?" in raw[index] or any(ord(c) > 0xFF for c in value):
            return value
        data = value.encode("latin-1")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        label = next((p.charset for p in self.text_parts if p.charset), None)
        if label:
            text, errors, unknown = decode_charset(data, label.encode("latin-1"))
            if not errors and not unknown:
                return text
        return value

    @cached_property
    def _raw_map(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, value in self.raw_headers:
            found.setdefault(name.lower(), []).append(value)
        return found

    def header_values(self, name: str, raw: bool = False) -> list[str]:
        """Every value of header ``name`` (case-insensitive), decoded unless ``raw``."""
        return (self._raw_map if raw else self._decoded_map).get(name.lower(), [])

    def has_header(self, name: str) -> bool:
        return name.lower() in self._decoded_map or name.lower() in self._raw_map

    def header(self, spec: str) -> str | None:
        """The value a header test sees for ``spec`` (None: the header is absent)."""
        name, _, modifier = spec.partition(":")
        low = name.lower()
        if low == "all":
            return "\n".join(f"{k}: {v}" for k, v in self.top_headers) or None
        if low == "tocc":
            values = self.header_values("to") + self.header_values("cc")
        elif low == "messageid":
            values = (
                self.header_values("message-id")
                + self.header_values("resent-message-id")
                + self.header_values("x-message-id")
            )
        elif low == "envelopefrom":
            sender = self.envelope.sender
            return sender if sender is not None else None
        else:
            values = self.header_values(name, raw=modifier == "raw")
        if not values:
            return None
        if modifier == "addr":
            return "\n".join(a for _, a in email.utils.getaddresses(values) if a) or ""
        if modifier == "name":
            return "\n".join(n for n, _ in email.utils.getaddresses(values)) or ""
        return "\n".join(values)

    @cached_property
    def subject(self) -> str:
        values = self.header_values("subject")
        return values[0] if values else ""

    @cached_property
    def from_address(self) -> tuple[str, str]:
        """(display name, address) of the first From header ('' when absent)."""
        values = self.header_values("from")
        if not values:
            return "", ""
        pairs = email.utils.getaddresses(values[:1])
        return pairs[0] if pairs else ("", "")

    # --- parts and text -------------------------------------------------------------------
    @cached_property
    def text_parts(self) -> list[mime.Part]:
        """Text leaves that are not attachments (the body the tests read)."""
        out = []
        for part in self.message.parts:
            if not part.is_leaf or not part.content_type.startswith("text/"):
                continue
            if part.disposition == "attachment":
                continue
            out.append(part)
        return out

    @cached_property
    def html_parts(self) -> list[mime.Part]:
        return [p for p in self.text_parts if p.content_type == "text/html"]

    @cached_property
    def plain_parts(self) -> list[mime.Part]:
        return [p for p in self.text_parts if p.content_type != "text/html"]

    @cached_property
    def visible_text(self) -> str:
        """The rendered text of all text parts (HTML as visible text), paragraphs kept."""
        chunks = []
        for part in self.text_parts:
            text = part.html_text if part.content_type == "text/html" else part.text
            if text:
                chunks.append(text[:MAX_PART_CHARS])
        return "\n\n".join(chunks)

    @cached_property
    def body(self) -> str:
        """The ``body`` area: Subject, then one paragraph per line."""
        lines = [self.subject] if self.subject else []
        lines.extend(_paragraphs(self.visible_text))
        return "\n".join(lines)

    @cached_property
    def rawbody(self) -> str:
        """The ``rawbody`` area: text parts decoded, HTML as written."""
        return "\n".join((p.text or "")[:MAX_PART_CHARS] for p in self.text_parts)

    @cached_property
    def html_source(self) -> str:
        return "\n".join((p.text or "")[:MAX_PART_CHARS] for p in self.html_parts)

    @cached_property
    def uris(self) -> list[str]:
        """Every URI: the walk's (text and HTML source) plus href/src/action attributes."""
        found: dict[str, None] = dict.fromkeys(self.message.uris)
        for text in (p.text for p in self.text_parts):
            if text and "://" in text:
                for m in _DOTLESS_URI.finditer(text[:MAX_PART_CHARS]):
                    found.setdefault(m.group(0).rstrip(".,;:!?)"))
        for m in _HREF.finditer(self.html_source):
            value = (m.group(1) or m.group(2) or m.group(3) or "").strip()
            if value and not value.startswith("#"):
                found.setdefault(value)
        return list(found)

    @cached_property
    def uri_text(self) -> str:
        """The ``uri`` area: one URI per line."""
        return "\n".join(self.uris)

    @cached_property
    def anchors(self) -> list[tuple[str, str]]:
        """``(href, visible link text)`` of every ``<a href>`` in the HTML parts."""
        out = []
        for m in _ANCHOR.finditer(self.html_source):
            href = (m.group(1) or m.group(2) or m.group(3) or "").strip()
            text = _WS.sub(" ", html_to_text(_TAG.sub(" ", m.group(4)))).strip()
            out.append((href, text))
        return out

    @cached_property
    def image_count(self) -> int:
        """Inline ``<img>`` tags plus image parts."""
        images = len(_IMG.findall(self.html_source))
        images += sum(
            1 for p in self.message.parts if p.is_leaf and p.content_type.startswith("image/")
        )
        return images

    @cached_property
    def defects(self) -> frozenset[str]:
        return frozenset(d.kind for d in self.message.defects)

    @cached_property
    def full(self) -> bytes:
        return self.raw

    # --- dates ----------------------------------------------------------------------------
    @cached_property
    def date(self) -> tuple[float | None, int | None]:
        """(Date header as a timestamp, its zone offset in seconds); None when unreadable."""
        values = self.header_values("date")
        if not values:
            return None, None
        try:
            parsed = email.utils.parsedate_tz(values[0])
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
        if parsed is None:
            return None, None
        try:
            return float(email.utils.mktime_tz(parsed)), parsed[9]
        except (OverflowError, ValueError, TypeError):
            return None, None

    @cached_property
    def received_time(self) -> float | None:
        """When the newest Received header says the message arrived (None: no such date)."""
        for value in self.header_values("received"):
            _, sep, stamp = value.rpartition(";")
            if not sep:
                continue
            try:
                parsed = email.utils.parsedate_tz(stamp.strip())
                if parsed is not None:
                    return float(email.utils.mktime_tz(parsed))
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
        return None

    # --- the Bayesian tokenizer's input ---------------------------------------------------
    @cached_property
    def tokenizer_input(self) -> TokenizerInput:
        """What the Bayesian tokenizer reads (:class:`pmgfast.bayes.TokenizerInput`)."""
        name, addr = self.from_address
        charsets = tuple(p.charset for p in self.message.parts if p.charset)
        texts = []
        for part in self.text_parts:
            text = part.html_text if part.content_type == "text/html" else part.text
            if text:
                texts.append(text)
        return TokenizerInput(
            subject=self.subject,
            from_addr=addr,
            from_name=name,
            received=tuple(self.header_values("received")),
            content_types=tuple(p.content_type for p in self.message.parts),
            charsets=charsets,
            header_names=tuple(k for k, _ in self.top_headers),
            texts=tuple(texts),
            uris=tuple(self.uris),
        )

    def addresses_in(self, text: str) -> list[str]:
        return _ADDR.findall(text)
