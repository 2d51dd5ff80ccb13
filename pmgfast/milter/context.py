"""What the milter callbacks learn about a connection and a message, turned into a pipeline Mail.

A :class:`Connection` lives as long as Postfix's milter connection (one SMTP session, possibly
several messages); a :class:`MessageContext` from ``MAIL FROM`` to end of message. Header values
arrive as Postfix sends them with ``SMFIP_HDR_LEADSPC`` (leading space and folding kept), so
:meth:`MessageContext.raw` rebuilds the header block byte for byte; the body keeps its CRLFs.

Direction and mode come from the connection's macros: ``{daemon_name}`` as pmgfast's Postfix
templates set it (``milter_macro_daemon_name``: ``pmgfast-in``/``pmgfast-out`` before the
queue, ``pmgfast-aq-in``/``pmgfast-aq-out`` after it), else ``{daemon_port}`` compared with
``mail.int_port`` (PMG: port 26 is trusted). An authenticated client (``{auth_authen}``) is
trusted too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pmgfast.milter.spill import BodyBuffer
from pmgfast.pipeline import Envelope, Mail, Mode, Recipient
from pmgfast.quarantine.store import file_uid

KEEP_MAIL_PARAMS = ("RET", "ENVID", "SMTPUTF8")
KEEP_RCPT_PARAMS = ("NOTIFY", "ORCPT")


def strip_brackets(address: str) -> str:
    address = address.strip()
    if address.startswith("<") and address.endswith(">"):
        return address[1:-1]
    return address


def esmtp_params(params: tuple[str, ...], keep: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for param in params:
        key, _, value = param.partition("=")
        key = key.upper()
        if key in keep:
            out.append((key, value))
    return tuple(out)


@dataclass
class Direction:
    """How to tell trusted from untrusted and before- from after-queue."""

    int_port: int = 26
    before_queue: bool = True

    def classify(
        self, daemon_name: str | None, daemon_port: str | None, authenticated: bool
    ) -> tuple[bool, Mode]:
        name = (daemon_name or "").lower()
        if name.startswith("pmgfast-"):
            trusted = name.endswith("-out")
            mode: Mode = "after-queue" if "-aq-" in name else "before-queue"
        else:
            trusted = daemon_port is not None and daemon_port == str(self.int_port)
            mode = "before-queue" if self.before_queue else "after-queue"
        return trusted or authenticated, mode


@dataclass
class Connection:
    hostname: str = "unknown"
    address: str | None = None
    helo: str | None = None
    daemon_name: str | None = None
    daemon_port: str | None = None
    messages: int = 0


@dataclass
class MessageContext:
    sender: str
    sender_params: tuple[tuple[str, str], ...]
    body: BodyBuffer
    authenticated: bool = False
    recipients: list[tuple[str, Recipient]] = field(default_factory=list)  # (as given, parsed)
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    header_size: int = 0
    filter_id: str = field(default_factory=lambda: file_uid()[0])
    received: float = field(default_factory=time.time)

    def add_header(self, name: str, value: bytes) -> None:
        data = name.encode("utf-8", "surrogateescape")
        self.headers.append((data, value))
        bare_lf = value.count(b"\n") - value.count(b"\r\n")  # become CRLF in raw()
        self.header_size += len(data) + len(value) + bare_lf + 3

    @property
    def size(self) -> int:
        return self.header_size + 2 + self.body.size

    def raw(self) -> bytes:
        """The message as received: header block, blank line, body."""
        head = b"".join(
            name + b":" + value.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"
            for name, value in self.headers
        )
        return head + b"\r\n" + self.body.getvalue()

    def original_recipient(self, address: str) -> str:
        """The recipient string exactly as Postfix gave it (for ``delrcpt``)."""
        for given, rcpt in self.recipients:
            if rcpt.address == address:
                return given
        return f"<{address}>"

    def mail(self, conn: Connection, direction: Direction, queue_id: str | None) -> Mail:
        trusted, mode = direction.classify(conn.daemon_name, conn.daemon_port, self.authenticated)
        envelope = Envelope(
            sender=self.sender,
            recipients=tuple(dict((r.address, r) for _, r in self.recipients).values()),
            sender_params=self.sender_params,
            client_address=conn.address,
            client_name=conn.hostname,
            helo=conn.helo,
            trusted=trusted,
            queue_id=queue_id,
            mode=mode,
        )
        raw = b"" if self.body.too_big else self.raw()
        return Mail(envelope, raw, self.filter_id, self.received, self.size)


def new_message(
    sender: str,
    params: tuple[str, ...],
    spill_size: int,
    maxsize: int,
    spill_dir: Path | None,
) -> MessageContext:
    return MessageContext(
        sender=strip_brackets(sender),
        sender_params=esmtp_params(params, KEEP_MAIL_PARAMS),
        body=BodyBuffer(spill_size, maxsize, spill_dir),
    )
