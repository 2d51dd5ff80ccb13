"""Message facts from Python's ``email`` package: a stand-in until the MIME walk fills them.

Used by the corpus tests, the benchmark and ad-hoc checks. It numbers the entities depth-first
like PMG (containers and the parsed message inside a ``message/rfc822`` part included), reads
the header type, filename (``filename``, then ``name``), charset and decoded headers, and makes
simple stand-ins for the two detected types: the *glob* type from the freedesktop glob list
(``/usr/share/mime/globs2`` when installed) and the *magic* type from a handful of signatures.
Legacy freedesktop names are mapped to the names PMG's factory rules use.
"""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from pmgfast.rules.facts import MessageFacts, Part

GLOBS2 = Path("/usr/share/mime/globs2")
LEGACY = {
    "application/x-ms-dos-executable": "application/vnd.microsoft.portable-executable",
    "application/x-msdos-program": "application/vnd.microsoft.portable-executable",
    "application/x-javascript": "application/javascript",
    "application/java-vm": "application/x-java",
}
_FALLBACK_GLOBS = {
    "exe": "application/vnd.microsoft.portable-executable", "js": "application/javascript",
    "txt": "text/plain", "html": "text/html", "htm": "text/html", "pdf": "application/pdf",
    "zip": "application/zip", "png": "image/png", "jpg": "image/jpeg", "gif": "image/gif",
    "doc": "application/msword", "vbs": "text/vbscript",
}  # fmt: skip
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"\x7fELF", "application/x-executable"),
    (b"<!DOCTYPE html", "text/html"),
    (b"<html", "text/html"),
)


@lru_cache(maxsize=1)
def _globs() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(lower-case extension -> type, [(pattern, type)]) from globs2, highest weight first."""
    simple: dict[str, str] = {}
    patterns: list[tuple[str, str]] = []
    try:
        lines = GLOBS2.read_text("utf-8").splitlines()
    except OSError:
        return dict(_FALLBACK_GLOBS), []
    entries = []
    for line in lines:
        if line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) >= 3 and fields[0].isdigit():
            entries.append((int(fields[0]), fields[1], fields[2]))
    for _, mime_type, glob in sorted(entries, key=lambda e: -e[0]):
        mime_type = LEGACY.get(mime_type, mime_type)
        if glob.startswith("*.") and not any(c in glob[2:] for c in "*?["):
            simple.setdefault(glob[2:].lower(), mime_type)
        else:
            patterns.append((glob, mime_type))
    return simple, patterns


def glob_type(filename: str) -> str:
    """The type freedesktop's glob list gives the filename ('' when none does)."""
    simple, patterns = _globs()
    name = filename.lower()
    dot = name.find(".")
    while dot >= 0:
        found = simple.get(name[dot + 1 :])
        if found:
            return found
        dot = name.find(".", dot + 1)
    for pattern, mime_type in patterns:
        if fnmatchcase(filename, pattern) or fnmatchcase(name, pattern.lower()):
            return mime_type
    return ""


def magic_type(data: bytes) -> str:
    """A small content sniffer: PE/DOS executables, common containers and images, text."""
    if data.startswith(b"MZ"):
        offset = int.from_bytes(data[60:64], "little") if len(data) >= 64 else 0
        if data[offset : offset + 4] == b"PE\x00\x00":
            return "application/vnd.microsoft.portable-executable"
        return "application/x-msdownload"
    for signature, mime_type in _SIGNATURES:
        if data[: len(signature)].lower() == signature.lower():
            return mime_type
    head = data[:4096]
    if not head:
        return "text/plain"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError:
            if sum(1 for b in head if b < 9 or 13 < b < 32) == 0:
                return "text/plain"
    return "application/octet-stream"


def decoded(value: object) -> str:
    """A header value with its RFC 2047 words decoded (the raw text when that fails)."""
    text = str(value)
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeError, AssertionError):
        return text


def _header_type(message: Message) -> str:
    raw = message.get("Content-Type")
    return str(raw).split(";", 1)[0].strip() if raw is not None else ""


def _filename(message: Message) -> str | None:
    try:
        name = message.get_filename()
    except (ValueError, LookupError, UnicodeError):
        return None
    if name is None:
        return None
    return decoded(name).replace("\0", " ").strip()


def _parts(message: Message, parent: int, out: list[Part]) -> None:
    aid = len(out) + 1
    headers = tuple((str(k), decoded(v)) for k, v in message.items())
    name = _filename(message)
    out.append(Part(aid))  # placeholder, so children number after their parent
    children = message.get_payload() if message.is_multipart() else None
    magic = glob = ""
    if not isinstance(children, list):
        glob = glob_type(name) if name else ""
        try:
            payload = message.get_payload(decode=True)
        except (ValueError, LookupError, UnicodeError, AssertionError):
            payload = None
        magic = magic_type(payload if isinstance(payload, bytes) else b"")
    try:
        charset = message.get_content_charset()
    except (ValueError, LookupError):
        charset = None
    out[aid - 1] = Part(aid, parent, _header_type(message), magic, glob, name, charset, headers)
    if isinstance(children, list):
        for child in children:
            if isinstance(child, Message):
                _parts(child, aid, out)


def _addresses(message: Message) -> tuple[str, ...]:
    resent = message.get_all("Resent-From")
    names = (
        ["Resent-From"]
        if resent
        else ["From", "Envelope-Sender", "Resent-Sender", "X-Envelope-From", "EnvelopeFrom"]
    )
    found: list[str] = []
    for name in names:
        values = [str(v) for v in message.get_all(name) or []]
        for _, address in getaddresses(values):
            if address and address not in found:
                found.append(address)
    return tuple(found)


def facts_from_bytes(
    raw: bytes, sender: str, recipients: tuple[str, ...], **known: object
) -> MessageFacts:
    """Facts for the message ``raw``; ``known`` fills the other fields (spam, virus, trusted,
    client_ip, time, user_lists, ...)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    parts: list[Part] = []
    _parts(message, 0, parts)
    subject = message.get("Subject")
    ids = message.get_all("Message-Id") or []
    return MessageFacts(
        sender=sender,
        recipients=recipients,
        parts=tuple(parts),
        subject=decoded(subject).strip() if subject is not None else None,
        message_id=str(ids[-1]).strip() if ids else "",
        from_addresses=_addresses(message),
        **known,  # type: ignore[arg-type]
    )
