"""The rule engine's input: what is known about one message, as plain frozen values.

The pipeline fills these from the MIME walk, the scanners and the SMTP session; tests build
them directly. Nothing here does I/O. Names follow PMG where PMG has one:

- ``aid``: the attachment id PMG writes into ``X-Proxmox-tmp-AID``, numbered from 1 in
  depth-first order over *every* entity, containers included (the top part is aid 1, a
  ``message/rfc822`` part is the parent of its parsed message).
- ``content_type``: the header ``Content-Type`` without parameters, as written (PMG's
  ``mime_attr('content-type')``; empty when the header is absent). Content-type objects match it
  case-sensitively.
- ``magic_type`` / ``glob_type``: PMG's ``PMX_magic_ct`` (content sniffing) and ``PMX_glob_ct``
  (from the filename); empty when unknown.
- ``archive_types`` / ``archive_filenames``: PMG's ``PMX_content_types`` / ``PMX_filenames``,
  every type and member basename found inside the part when it is an archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pmgfast.rules.userlists import UserLists


@dataclass(frozen=True, slots=True)
class Part:
    """One MIME entity of the message."""

    aid: int
    parent: int = 0
    content_type: str = ""
    magic_type: str = ""
    glob_type: str = ""
    filename: str | None = None
    charset: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    archive_types: tuple[str, ...] = ()
    archive_filenames: tuple[str, ...] = ()

    @property
    def mime_type(self) -> str:
        """MIME::Head's ``mime_type``: the header type lower-cased, ``text/plain`` by default."""
        return self.content_type.lower() if self.content_type else "text/plain"


@dataclass(frozen=True, slots=True)
class SpamHit:
    """One spam test that fired: its name, score and description (``None``: no description)."""

    rule: str
    score: float | str
    desc: str | None = None


@dataclass(frozen=True, slots=True)
class SpamResult:
    """The spam analysis of the message: integer score (PMG's ``int()``, never negative), the
    threshold the scanner itself uses, and the hits in the order they were found."""

    score: int = 0
    required: float = 5
    hits: tuple[SpamHit, ...] = ()

    @property
    def hit_names(self) -> str:
        return ",".join(hit.rule for hit in self.hits)


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Everything the rules may look at for one message.

    ``recipients`` are the envelope recipients in order (PMG's targets). ``pmail`` maps a
    recipient to its primary address (LDAP), default the lower-cased recipient. ``user_lists``
    maps a primary address to its user welcome/blocklist (:mod:`pmgfast.rules.userlists`).
    ``from_addresses`` are the sender addresses the user lists are checked against (envelope
    sender plus the From-like headers, as PMG's ``all_from_addrs``); empty means the envelope
    sender alone. ``time`` is the local wall-clock time the WHEN objects compare with.
    """

    sender: str
    recipients: tuple[str, ...]
    parts: tuple[Part, ...] = (Part(1),)
    client_ip: str | None = None
    trusted: bool = False
    time: datetime = field(default_factory=lambda: datetime(2000, 1, 1, 12, 0))
    subject: str | None = None
    message_id: str = ""
    spam: SpamResult = SpamResult()
    virus: str | None = None
    pmail: Mapping[str, str] = field(default_factory=dict)
    user_lists: Mapping[str, UserLists] = field(default_factory=dict)
    from_addresses: tuple[str, ...] = ()
    dkim_sign: bool = False

    @property
    def max_aid(self) -> int:
        return max((p.aid for p in self.parts), default=0)

    def primary(self, recipient: str) -> str:
        return self.pmail.get(recipient) or recipient.lower()


@dataclass(frozen=True, slots=True)
class HostInfo:
    """What the macros need to know about this gateway (PMG reads it from its config)."""

    admin_email: str = "admin@domain.tld"
    hostname: str = "localhost"
    domain: str = "localdomain"
    version: str = "pmgfast/0.1.0"

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}" if self.domain else self.hostname
