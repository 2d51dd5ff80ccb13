"""Re-injection: hand a mail back to Postfix through its smtpd without the milter (PMG's
``reinject_mail``, pmg-behaviour.md 1.5).

Used for the recipient groups whose copy differs from the one Postfix keeps, BCC copies,
notifications and NDRs. The client says ``XFORWARD`` (when offered) with the original client's
name, address and HELO, keeps ``RET``/``ENVID`` on ``MAIL`` and ``NOTIFY``/``ORCPT`` on each
``RCPT``, and reads Postfix's queue id from the final reply (``Ok: queued as <QID>``; unlike
PMG any letter case, so long queue ids are read whole).
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_QUEUED = re.compile(rb"queued as ([0-9A-Za-z]+)")
MAIL_PARAMS = ("RET", "ENVID")
RCPT_PARAMS = ("NOTIFY", "ORCPT")


class ReinjectError(RuntimeError):
    """Postfix refused the mail (``code`` is its reply code, 0 when it could not be reached)."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code} {message}" if code else message)

    @property
    def temporary(self) -> bool:
        return self.code == 0 or 400 <= self.code < 500


@dataclass(frozen=True, slots=True)
class Target:
    """One recipient with its DSN parameters (``NOTIFY``, ``ORCPT``)."""

    address: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Origin:
    """The original SMTP client, forwarded with XFORWARD."""

    name: str | None = None
    addr: str | None = None
    helo: str | None = None
    proto: str = "ESMTP"


def _xtext(value: str) -> str:
    """XFORWARD values are xtext: ``+XX`` for '+', '=', controls and non-ASCII."""
    out: list[str] = []
    for ch in value:
        code = ord(ch)
        if ch in "+=" or code <= 32 or code >= 127:
            out.extend(f"+{b:02X}" for b in ch.encode("utf-8", "surrogateescape"))
        else:
            out.append(ch)
    return "".join(out)


@dataclass
class Reinjector:
    host: str
    port: int
    helo: str
    timeout: float = 60.0

    def send(
        self,
        sender: str,
        targets: Sequence[Target],
        data: bytes,
        sender_params: Mapping[str, str] | None = None,
        origin: Origin | None = None,
        smtputf8: bool = False,
    ) -> str:
        """Deliver ``data`` to Postfix; returns its queue id or raises ReinjectError."""
        try:
            with smtplib.SMTP(self.host, self.port, self.helo, timeout=self.timeout) as smtp:
                code, reply = smtp.ehlo(self.helo)
                if code != 250:
                    raise ReinjectError(code, reply.decode("utf-8", "replace"))
                if origin is not None and smtp.has_extn("xforward"):
                    attrs = [
                        f"{key}={_xtext(value)}"
                        for key, value in (
                            ("NAME", origin.name),
                            ("ADDR", origin.addr),
                            ("PROTO", origin.proto),
                            ("HELO", origin.helo),
                        )
                        if value
                    ]
                    if attrs:
                        code, reply = smtp.docmd("XFORWARD", " ".join(attrs))
                        if code != 250:
                            raise ReinjectError(code, reply.decode("utf-8", "replace"))
                options = ["BODY=8BITMIME"]
                if smtputf8 and smtp.has_extn("smtputf8"):
                    options.append("SMTPUTF8")
                for key in MAIL_PARAMS:
                    if sender_params and key in sender_params:
                        options.append(f"{key}={sender_params[key]}")
                code, reply = smtp.mail(sender, options)
                if code != 250:
                    raise ReinjectError(code, reply.decode("utf-8", "replace"))
                accepted = 0
                last_refusal = (0, b"")
                for target in targets:
                    params = dict(target.params)
                    opts = [f"{k}={params[k]}" for k in RCPT_PARAMS if k in params]
                    code, reply = smtp.rcpt(target.address, opts)
                    if code in (250, 251):
                        accepted += 1
                    else:
                        last_refusal = (code, reply)
                if accepted != len(targets):
                    smtp.rset()
                    code, reply = last_refusal
                    raise ReinjectError(code, reply.decode("utf-8", "replace"))
                code, reply = smtp.data(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
                if code != 250:
                    raise ReinjectError(code, reply.decode("utf-8", "replace"))
        except smtplib.SMTPResponseException as err:
            raise ReinjectError(err.smtp_code, str(err.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as err:
            raise ReinjectError(0, f"cannot reach {self.host}:{self.port}: {err}") from None
        match = _QUEUED.search(reply)
        if match is None:
            raise ReinjectError(
                code, "no queue id in the reply: " + reply.decode("utf-8", "replace")
            )
        return match.group(1).decode()
