"""PMG's greylisting state machine for one triple, as a pure function (no I/O, no clock).

:func:`step` takes the stored row (or ``None``), the current time and the constants, and
returns the new row and whether the recipient passes. The SQL in :mod:`pmgfast.greylist.store`
performs exactly this step in one statement; the hot cache (:mod:`pmgfast.greylist.cache`)
replays it on its copy of the row; the tests pit the two against each other.

pmgpolicy (``greylist_value``), in order:

- no row: insert it (``RCTime`` = ``MTime`` = now, ``ExTime`` = now + retry window, Blocked 1)
  and defer;
- ``now - RCTime < delay``: defer again, ``Blocked + 1``;
- ``now < ExTime``: pass, ``Passed + 1``, ``Delay`` = the age on the first pass, and
  ``ExTime`` = now + lifetime (36 days: the triple is auto-welcomed), but now + 0 for the
  empty sender, so every bounce is greylisted again;
- otherwise the row has expired: start over (``RCTime`` now, ``ExTime`` now + retry window,
  Blocked 1, Passed 0, the new instance; ``Delay`` stays) and defer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DELAY = 3 * 60  # seconds a new triple is deferred
RETRY_WINDOW = 2 * 24 * 3600  # how long the first retry may take
LIFETIME = 36 * 24 * 3600  # how long a triple that passed stays known
SPF_BLOCKED = 100000  # Blocked of a row written for an SPF reject (statistics: spamlevel 4)
SPF_LIFETIME = 10  # seconds such a row lives


@dataclass(frozen=True, slots=True)
class Constants:
    delay: int = DELAY
    retry_window: int = RETRY_WINDOW
    lifetime: int = LIFETIME


@dataclass(frozen=True, slots=True)
class Row:
    """The columns of a ``CGreylist`` row that the decision reads and writes."""

    rctime: int
    extime: int
    delay: int = 0
    blocked: int = 1
    passed: int = 0
    instance: str | None = None
    mtime: int = 0


def new_row(now: int, instance: str | None, c: Constants) -> Row:
    return Row(now, now + c.retry_window, 0, 1, 0, instance, now)


def step(
    row: Row | None, now: int, empty_sender: bool, instance: str | None, c: Constants
) -> tuple[Row, bool]:
    """The row after one delivery attempt, and True when the attempt passes."""
    if row is None:
        return new_row(now, instance, c), False
    age = now - row.rctime
    if age < c.delay:
        return replace(row, blocked=row.blocked + 1, mtime=now), False
    if now < row.extime:
        return (
            replace(
                row,
                passed=row.passed + 1,
                delay=row.delay if row.passed else age,
                extime=now + (0 if empty_sender else c.lifetime),
                mtime=now,
            ),
            True,
        )
    # expired: start over (pmgpolicy keeps the Delay column as it was)
    return replace(new_row(now, instance, c), delay=row.delay), False


def passes(row: Row, now: int, c: Constants) -> bool:
    """Whether ``row`` as :func:`step` left it says "pass": the SQL's answer from the new
    row alone (a row that has passed and whose delay is over)."""
    return row.passed > 0 and now - row.rctime >= c.delay
