"""The rule engine's facts from the MIME walk: what the pipeline gives the rules for a message.

The pipeline calls :func:`message_facts` with the walked message (:func:`pmgfast.mime.walk`),
the envelope, the archive listings of the unpack step and what the scanners found; tests,
``bench/bench_rules.py`` and pmgperf call :func:`facts_from_bytes` to get the same facts for a
raw message. Per part (see :mod:`pmgfast.rules.facts` for the names): the aid and parent of
the walk, the ``Content-Type`` header as written without parameters, the sniffed and filename
types, filename, charset and decoded headers, and the types and names inside an archive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pmgfast.rules.facts import MessageFacts, Part


class ArchiveContents(Protocol):
    """What the unpack step found in one archive part (:class:`pmgfast.unpack.Contents`)."""

    @property
    def types(self) -> tuple[str, ...]: ...

    @property
    def filenames(self) -> tuple[str, ...]: ...


def last_header(part: Any, name: str) -> str:
    """The last value of header ``name`` (lower case) of a walked part ('' when absent)."""
    value = ""
    for key, text in part.headers:
        if key.lower() == name:
            value = text
    return value


def header_type(part: Any) -> str:
    """The Content-Type header as written, without parameters ('' when absent)."""
    for key, text in part.headers:
        if key.lower() == "content-type":
            return text.split(";", 1)[0].strip()
    return ""


def fact_part(part: Any, contents: ArchiveContents | None = None) -> Part:
    """One walked part as the rules see it; ``contents`` when it is a listed archive."""
    return Part(
        aid=part.aid,
        parent=part.parent,
        content_type=header_type(part),
        magic_type=part.magic_type or "",
        glob_type=part.glob_type or "",
        filename=part.filename,
        charset=part.charset,
        headers=tuple(part.headers),
        archive_types=contents.types if contents else (),
        archive_filenames=contents.filenames if contents else (),
    )


def message_facts(
    message: Any,
    sender: str,
    recipients: Iterable[str],
    archives: Mapping[int, ArchiveContents] | None = None,
    sender_headers: bool = True,
    **known: Any,
) -> MessageFacts:
    """Facts for a walked message. ``sender_headers``: read the sender addresses of the
    From-like headers (what user lists are checked against; the pipeline skips it when no
    spam score is needed). ``known`` fills the other fields (spam, virus, trusted, client_ip,
    time, user_lists, ...)."""
    parts = message.parts
    top = parts[0] if parts else None
    archives = archives or {}
    from_addresses: tuple[str, ...] = ()
    if sender_headers and top is not None:
        from pmgfast.spam.userprefs import sender_addresses

        from_addresses = sender_addresses(top.headers)
    return MessageFacts(
        sender=sender,
        recipients=tuple(recipients),
        parts=tuple(fact_part(p, archives.get(p.aid)) for p in parts) or (Part(1),),
        subject=last_header(top, "subject") if top is not None else None,
        message_id=last_header(top, "message-id").strip() if top is not None else "",
        from_addresses=from_addresses,
        **known,
    )


def facts_from_bytes(
    raw: bytes, sender: str, recipients: Iterable[str], **known: Any
) -> MessageFacts:
    """Facts for the raw message ``raw``, walked with the default limits (no archives listed:
    the unpack step runs only for rule sets with archive objects)."""
    from pmgfast import mime

    return message_facts(mime.walk(raw), sender, recipients, **known)
