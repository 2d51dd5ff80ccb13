"""A search of the tracking center: the time range and the filters (PMG's names in comments)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pmgfast.tracking.errors import TrackingError

#: Seconds read before and after the range, so mails at its edges are seen whole.
DEFAULT_MARGIN = 600


@dataclass(frozen=True)
class Query:
    """Mails whose first log line lies in ``[start, end]`` (epoch seconds) and that match every
    filter given. Text filters are case-insensitive substrings, as in pmg-log-tracker."""

    start: int
    end: int
    #: Envelope sender contains this (``-f``, the GUI's "From").
    sender: str = ""
    #: Some recipient contains this; only matching recipients are listed (``-t``, "To").
    recipient: str = ""
    #: The client's host name or IP contains this (``-h``).
    host: str = ""
    #: The Message-ID equals this, ignoring case (``-m``).
    msgid: str = ""
    #: A Postfix queue id, filter id or session id of the mail (``-q``).
    qids: tuple[str, ...] = ()
    #: Some log line of the mail contains this (``-x``, the GUI's "Filter").
    text: str = ""
    #: Include greylisted and rejected recipients, and mail with the empty sender (NDRs).
    include_greylisted: bool = False
    include_rejected: bool = False
    include_ndr: bool = False
    #: At most this many rows (recipients); 0: no limit.
    limit: int = 0
    #: Return each mail's log lines.
    lines: bool = False
    margin: int = DEFAULT_MARGIN
    #: "Now" (epoch seconds): traditional syslog stamps take their year from it. None: the clock.
    now: int | None = None
    #: The time zone of traditional stamps (a ``TZ`` value); None: the ``TZ`` of the process.
    tz: str | None = None
    #: Correlate every line (benchmarks and tests; the default scans sparsely when it can).
    full_scan: bool = False

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise TrackingError(f"end time {self.end} is before start time {self.start}")
        if self.limit < 0 or self.margin < 0:
            raise TrackingError("limit and margin must not be negative")

    @classmethod
    def last_hour(cls, now: int | None = None, **filters: object) -> Query:
        """The tracking center's default range: the last hour."""
        end = int(time.time()) if now is None else now
        return cls(start=end - 3600, end=end, now=now, **filters)  # type: ignore[arg-type]

    def clock(self) -> int:
        """``now``, or the current time."""
        return int(time.time()) if self.now is None else self.now
