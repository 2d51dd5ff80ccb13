"""Mails the gateway writes itself: notifications and non-delivery reports (pmg-behaviour.md
2.5 Notify, 11.10 NDR, 11.11).

Both carry ``Auto-Submitted``, a C-locale ``Date`` and a fresh ``Message-ID``; text is UTF-8,
quoted-printable. A notification may attach the received mail as ``original_message.eml``.
"""

from __future__ import annotations

import email.utils
import quopri
import secrets
import time
from collections.abc import Sequence
from email.header import Header

DEFAULT_FROM = "pmgfast <postmaster>"


def _date(now: float | None = None) -> str:
    # email.utils.formatdate is locale-independent: "Tue, 24 Nov 2026 21:40:00 +0000"
    return email.utils.formatdate(now if now is not None else time.time(), localtime=True)


def _qp(text: str) -> bytes:
    return quopri.encodestring(text.replace("\r\n", "\n").encode("utf-8")).rstrip(b"\n")


def _header(name: str, value: str) -> bytes:
    """One header line; non-ASCII values RFC 2047 encoded."""
    value = value.replace("\r", " ").replace("\n", " ")
    if not value.isascii():
        value = Header(value, "utf-8").encode()
    return f"{name}: {value}\n".encode()


def _head(fields: list[tuple[str, str]]) -> bytes:
    return b"".join(_header(name, value) for name, value in fields)


def _boundary() -> str:
    return f"----------=_{secrets.token_hex(10).upper()}"


def notification(
    sender: str,
    to: Sequence[str],
    subject: str,
    body: str,
    original: bytes | None,
    fqdn: str,
    now: float | None = None,
) -> bytes:
    """A Notify action's mail; ``original`` (when given) is attached as message/rfc822."""
    fields = [
        ("From", sender),
        ("To", ", ".join(to)),
        ("Subject", subject),
        ("Date", _date(now)),
        ("Message-ID", email.utils.make_msgid(domain=fqdn)),
        ("Auto-Submitted", "auto-generated"),
        ("MIME-Version", "1.0"),
    ]
    text_head = (
        b'Content-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: quoted-printable\n'
    )
    text = _qp(body if body.endswith("\n") else body + "\n")
    if original is None:
        return _head(fields) + text_head + b"\n" + text + b"\n"
    boundary = _boundary()
    fields.append(("Content-Type", f'multipart/mixed; boundary="{boundary}"'))
    b = boundary.encode()
    return (
        _head(fields)
        + b"\nThis is a multi-part message in MIME format.\n\n--"
        + b
        + b"\n"
        + text_head
        + b"\n"
        + text
        + b"\n--"
        + b
        + b"\n"
        + b'Content-Type: message/rfc822; name="original_message.eml"\n'
        + b'Content-Disposition: attachment; filename="original_message.eml"\n\n'
        + original.replace(b"\r\n", b"\n").rstrip(b"\n")
        + b"\n--"
        + b
        + b"--\n"
    )


def ndr(
    sender: str,
    admin_from: str,
    recipients: Sequence[str],
    filter_id: str,
    fqdn: str,
    original_headers: bytes,
    now: float | None = None,
) -> bytes:
    """The NDR PMG sends with ``ndr_on_block`` for blocked recipients (11.10)."""
    boundary = _boundary()
    b = boundary.encode()
    fields = [
        ("From", admin_from),
        ("To", sender),
        ("Subject", "Undelivered Mail"),
        ("Date", _date(now)),
        ("Message-ID", email.utils.make_msgid(domain=fqdn)),
        ("Auto-Submitted", "auto-replied"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/report; report-type=delivery-status; boundary="{boundary}"'),
    ]
    text = (
        f"This is the mail system at host {fqdn}.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        + "".join(f"<{r}>: blocked by the mail filter\n" for r in recipients)
        + "\n554 5.7.1 Recipient address(es) rejected for policy reasons\n"
    )
    status = (
        f"Reporting-MTA: dns; {fqdn}\n"
        f"X-Proxmox-Queue-ID: {filter_id}\n"
        f"X-Proxmox-Sender: rfc822; {sender}\n"
        + "".join(
            f"\nFinal-Recipient: rfc822; {r}\n"
            f"Original-Recipient: rfc822;{r}\n"
            "Action: failed\n"
            "Status: 5.7.1\n"
            "Diagnostic-Code: smtp; 554 5.7.1 Recipient address rejected for policy reasons\n"
            for r in recipients
        )
    )
    return (
        _head(fields)
        + b"\nThis is a MIME-encapsulated message.\n\n--"
        + b
        + b"\n"
        + b'Content-Type: text/plain; charset="UTF-8"\n'
        + b"Content-Transfer-Encoding: quoted-printable\n\n"
        + _qp(text)
        + b"\n--"
        + b
        + b"\nContent-Type: message/delivery-status\n\n"
        + status.encode("utf-8", "replace")
        + b"\n--"
        + b
        + b"\nContent-Type: text/rfc822-headers\n\n"
        + original_headers.replace(b"\r\n", b"\n").rstrip(b"\n")
        + b"\n--"
        + b
        + b"--\n"
    )
