"""What a search returns: mails with one status per recipient (PMG admin guide, 6.3).

:class:`Mail` and :class:`Recipient` are named tuples: immutable records that the Rust core
builds directly (``tuple.__new__`` of the class, no Python-level ``__init__``), so an answer of
tens of thousands of rows costs little more than the tuples themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

#: The status names of the admin guide, plus ``accepted`` (the re-injected copy is not in the
#: searched range yet), in display order.
STATUSES = (
    "rejected",
    "greylisted",
    "queued/deferred",
    "queued/bounced",
    "queued/delivered",
    "quarantine",
    "blocked",
    "accepted",
    "accepted/deferred",
    "accepted/bounced",
    "accepted/delivered",
)


class Recipient(NamedTuple):
    """One recipient of a mail."""

    to: str
    status: str
    #: pmg-log-tracker's letter for the row (``2 4 5 N G A B Q P D R``) and, for an accepted
    #: row, the letter of the re-injected copy's row.
    dstatus: str
    rstatus: str | None
    #: ``host[ip]:port``, the re-injected copy's queue id, the quarantine id, or ``none``.
    relay: str
    #: Time of the row (the last delivery attempt), seconds since the epoch.
    time: int


class Mail(NamedTuple):
    """One mail: a session's rejects, or a queue entry with its filter run and copies."""

    id: str
    #: Time of the mail's first log line, seconds since the epoch.
    time: int
    sender: str
    client: str
    msgid: str
    size: int
    qids: tuple[str, ...]
    filter_id: str
    recipients: tuple[Recipient, ...]
    #: Every log line of the mail, in log order (when asked for).
    lines: tuple[str, ...]

    def to_dict(self, lines: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "time": self.time,
            "from": self.sender,
            "client": self.client,
            "msgid": self.msgid,
            "size": self.size,
            "qids": list(self.qids),
            "filter_id": self.filter_id,
            "recipients": [
                {
                    "to": r.to,
                    "status": r.status,
                    "dstatus": r.dstatus,
                    "rstatus": r.rstatus,
                    "relay": r.relay,
                    "time": r.time,
                }
                for r in self.recipients
            ],
        }
        if lines:
            d["lines"] = list(self.lines)
        return d


@dataclass(frozen=True, slots=True)
class Result:
    """Mails in time order; ``truncated`` when the row limit left some out."""

    mails: tuple[Mail, ...]
    truncated: bool
    #: Bytes of log (or of the index) read.
    bytes_read: int
