"""Test mails made to order: a plain business mail as the base, and helpers to change it.

Every default rule gets a mail that hits it and a near-miss ham from these helpers (see
``test_default_rules.py``); nothing here is copied from any corpus.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence

RECEIVED = (
    "from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.net (Postfix) "
    "with ESMTP id 4AB12; Tue, 10 Jun 2025 10:00:00 +0000"
)
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Received", RECEIVED),
    ("From", "Alice Example <alice@example.org>"),
    ("To", "Bob Example <bob@example.net>"),
    ("Subject", "Minutes of the planning meeting"),
    ("Date", "Tue, 10 Jun 2025 09:58:00 +0000"),
    ("Message-ID", "<20250610095800.1234@example.org>"),
    ("MIME-Version", "1.0"),
    ("X-Mailer", "Thunderbird 128.0"),
)
PLAIN = (
    "Hi Bob,\n\nhere are the minutes of yesterday's meeting. We agreed to move the release to "
    "next week and to review the open tickets on Thursday morning.\n\nRegards,\nAlice\n"
)
ARRIVAL = 1749549600.0  # Tue, 10 Jun 2025 10:00:00 +0000


def mail(
    headers: Mapping[str, str | None] | None = None,
    add: Sequence[tuple[str, str]] = (),
    body: str | bytes = PLAIN,
    ctype: str | None = "text/plain; charset=utf-8",
    cte: str | None = None,
) -> bytes:
    """The base mail with headers replaced (None: removed), more headers added, and a body."""
    changes = {k.lower(): v for k, v in (headers or {}).items()}
    lines: list[bytes] = []
    seen = set()
    for name, value in BASE_HEADERS:
        key = name.lower()
        if key in changes:
            seen.add(key)
            if changes[key] is None:
                continue
            value = changes[key]  # type: ignore[assignment]
        lines.append(f"{name}: {value}".encode())
    for key, value in changes.items():
        if key not in seen and value is not None:
            lines.append(f"{key.title()}: {value}".encode())
    for name, value in add:
        lines.append(f"{name}: {value}".encode())
    if ctype is not None:
        lines.append(f"Content-Type: {ctype}".encode())
    if cte is not None:
        lines.append(f"Content-Transfer-Encoding: {cte}".encode())
    data = body.encode() if isinstance(body, str) else body
    return b"\r\n".join(lines) + b"\r\n\r\n" + data


def raw_header_mail(extra: bytes, drop: Sequence[str] = ()) -> bytes:
    """The base mail with raw header bytes appended (8-bit headers)."""
    head = mail(headers=dict.fromkeys(drop)).split(b"\r\n\r\n", 1)
    return head[0] + b"\r\n" + extra + b"\r\n\r\n" + head[1]


def html_doc(inner: str) -> str:
    return f"<html><body>{inner}</body></html>"


def text_of(n: int) -> str:
    """Ordinary prose of about ``n`` characters."""
    sentence = "The committee reviewed the quarterly report and agreed on next steps. "
    return (sentence * (n // len(sentence) + 1))[:n]


def alternative(plain: str, html: str, **kw: object) -> bytes:
    body = (
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + plain + "\r\n"
        "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n--b1--\r\n"
    )
    return mail(body=body, ctype='multipart/alternative; boundary="b1"', **kw)  # type: ignore[arg-type]


def html_only(html: str, **kw: object) -> bytes:
    return mail(body=html, ctype="text/html; charset=utf-8", **kw)  # type: ignore[arg-type]


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
PDF = base64.b64encode(b"%PDF-1.4\n" + b"0" * 64).decode()


def with_attachment(text: str | None, ctype: str, data_b64: str, filename: str) -> bytes:
    parts = ""
    if text is not None:
        parts += "--m1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n"
    parts += (
        f"--m1\r\nContent-Type: {ctype}; name={filename}\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-Disposition: attachment; filename={filename}\r\n\r\n{data_b64}\r\n--m1--\r\n"
    )
    return mail(body=parts, ctype='multipart/mixed; boundary="m1"')
