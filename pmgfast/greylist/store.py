"""The greylist table in PostgreSQL (``CGreylist``, shared by every node of a cluster).

- :func:`decide`: one delivery attempt, PMG's state machine (:func:`~pmgfast.greylist.policy.
  step`) as ONE ``INSERT ... ON CONFLICT DO UPDATE`` statement: atomic however many workers and
  nodes ask about the same triple at once, one round trip, and the new row comes back.
- :func:`merge`: write what the hot cache answered on its own (counters, ``ExTime``,
  ``MTime``; a first pass always goes through :func:`decide`) in one statement per batch,
  merging with ``GREATEST`` as PMG's cluster sync does, so the order in which nodes and
  workers write does not matter.
- :func:`record_spf_reject`: the short-lived row pmgpolicy writes for an SPF reject, so that
  the statistics count it (``Blocked`` = 100000, ``ExTime`` = now + 10).
- :func:`lookup`, :func:`count`: for the CLI and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg

from pmgfast.greylist.policy import SPF_BLOCKED, SPF_LIFETIME, Constants, Row
from pmgfast.greylist.triple import Triple

_COLUMNS = "RCTime, ExTime, Delay, Blocked, Passed, Instance, MTime"

# Every SET expression sees the row as it was (PostgreSQL evaluates them on the old row).
_DECIDE = f"""
INSERT INTO CGreylist AS g
    (IPNet, Sender, Receiver, Instance, RCTime, ExTime, Delay, Blocked, Passed, CID, MTime)
VALUES (%(ipnet)s, %(sender)s, %(receiver)s, %(instance)s, %(now)s, %(now)s + %(retry)s,
        0, 1, 0, %(cid)s, %(now)s)
ON CONFLICT (IPNet, Sender, Receiver) DO UPDATE SET
    Blocked = CASE WHEN %(now)s - g.RCTime < %(delay)s THEN g.Blocked + 1
                   WHEN %(now)s < g.ExTime THEN g.Blocked
                   ELSE 1 END,
    Passed = CASE WHEN %(now)s - g.RCTime < %(delay)s THEN g.Passed
                  WHEN %(now)s < g.ExTime THEN g.Passed + 1
                  ELSE 0 END,
    Delay = CASE WHEN %(now)s - g.RCTime >= %(delay)s AND %(now)s < g.ExTime AND g.Passed = 0
                 THEN %(now)s - g.RCTime
                 ELSE g.Delay END,
    ExTime = CASE WHEN %(now)s - g.RCTime < %(delay)s THEN g.ExTime
                  WHEN %(now)s < g.ExTime THEN %(now)s + %(lifetime)s
                  ELSE %(now)s + %(retry)s END,
    Instance = CASE WHEN %(now)s - g.RCTime < %(delay)s OR %(now)s < g.ExTime THEN g.Instance
                    ELSE %(instance)s END,
    RCTime = CASE WHEN %(now)s - g.RCTime < %(delay)s OR %(now)s < g.ExTime THEN g.RCTime
                  ELSE %(now)s END,
    MTime = %(now)s
RETURNING {_COLUMNS}
"""


def _params(triple: Triple) -> dict[str, object]:
    return {"ipnet": triple.ipnet, "sender": triple.sender, "receiver": triple.receiver}


def _row(values: Sequence[object]) -> Row:
    rctime, extime, delay, blocked, passed, instance, mtime = values
    return Row(
        int(rctime),  # type: ignore[call-overload]
        int(extime),  # type: ignore[call-overload]
        int(delay),  # type: ignore[call-overload]
        int(blocked),  # type: ignore[call-overload]
        int(passed),  # type: ignore[call-overload]
        instance if instance is None else str(instance),
        int(mtime),  # type: ignore[call-overload]
    )


def decide(
    conn: psycopg.Connection,
    triple: Triple,
    now: int,
    instance: str | None,
    c: Constants,
    cid: int = 0,
) -> Row:
    """Apply one delivery attempt to the stored row; returns the row as it is now (whether the
    attempt passes: :func:`~pmgfast.greylist.policy.passes`)."""
    lifetime = 0 if triple.sender == "" else c.lifetime
    params = {
        **_params(triple),
        "instance": instance,
        "now": now,
        "delay": c.delay,
        "retry": c.retry_window,
        "lifetime": lifetime,
        "cid": cid,
    }
    found = conn.execute(_DECIDE, params, prepare=True).fetchone()
    assert found is not None  # an upsert always returns its row
    return _row(found)


@dataclass(frozen=True, slots=True)
class Delta:
    """What the cache answered for one triple since the last write: the increments, and the
    row as the cache knows it (inserted as it is if the row has gone meanwhile)."""

    triple: Triple
    row: Row
    blocked: int = 0
    passed: int = 0


_MERGE_UPDATE = """
UPDATE CGreylist AS g SET
    Blocked = g.Blocked + d.blocked,
    Passed = g.Passed + d.passed,
    ExTime = GREATEST(g.ExTime, d.extime),
    MTime = GREATEST(g.MTime, d.mtime)
FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::int[], %s::int[], %s::int[])
     AS d(ipnet, sender, receiver, blocked, passed, extime, mtime)
WHERE g.IPNet = d.ipnet AND g.Sender = d.sender AND g.Receiver = d.receiver
RETURNING g.IPNet, g.Sender, g.Receiver
"""

_MERGE_INSERT = """
INSERT INTO CGreylist
    (IPNet, Sender, Receiver, Instance, RCTime, ExTime, Delay, Blocked, Passed, CID, MTime)
SELECT d.ipnet, d.sender, d.receiver, d.instance, d.rctime, d.extime, d.delay, d.blocked,
       d.passed, %s, d.mtime
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::int[], %s::int[], %s::int[],
            %s::int[], %s::int[], %s::int[])
     AS d(ipnet, sender, receiver, instance, rctime, extime, delay, blocked, passed, mtime)
ON CONFLICT (IPNet, Sender, Receiver) DO NOTHING
"""


def merge(conn: psycopg.Connection, deltas: Iterable[Delta], cid: int = 0) -> int:
    """Write a batch of cache answers in one transaction; returns how many triples."""
    batch = list(deltas)
    if not batch:
        return 0
    keys = ([d.triple.ipnet for d in batch], [d.triple.sender for d in batch])
    receivers = [d.triple.receiver for d in batch]
    with conn.transaction():
        updated = conn.execute(
            _MERGE_UPDATE,
            (
                *keys,
                receivers,
                [d.blocked for d in batch],
                [d.passed for d in batch],
                [d.row.extime for d in batch],
                [d.row.mtime for d in batch],
            ),
        ).fetchall()
        if len(updated) < len(batch):  # rows gone meanwhile: written again as the cache has them
            found = {tuple(r) for r in updated}
            gone = [
                d
                for d in batch
                if (d.triple.ipnet, d.triple.sender, d.triple.receiver) not in found
            ]
            conn.execute(
                _MERGE_INSERT,
                (
                    cid,
                    [d.triple.ipnet for d in gone],
                    [d.triple.sender for d in gone],
                    [d.triple.receiver for d in gone],
                    [d.row.instance for d in gone],
                    [d.row.rctime for d in gone],
                    [d.row.extime for d in gone],
                    [d.row.delay for d in gone],
                    [d.row.blocked for d in gone],
                    [d.row.passed for d in gone],
                    [d.row.mtime for d in gone],
                ),
            )
    return len(batch)


_SPF = """
INSERT INTO CGreylist AS g
    (IPNet, Sender, Receiver, Instance, RCTime, ExTime, Delay, Blocked, Passed, CID, MTime)
VALUES (%s, %s, %s, %s, %s, %s, 0, %s, 0, %s, %s)
ON CONFLICT (IPNet, Sender, Receiver) DO NOTHING
"""


def record_spf_reject(
    conn: psycopg.Connection, triple: Triple, now: int, instance: str | None, cid: int = 0
) -> None:
    """pmgpolicy's record of an SPF reject (only when the triple has no row yet)."""
    conn.execute(
        _SPF,
        (
            triple.ipnet,
            triple.sender,
            triple.receiver,
            instance,
            now,
            now + SPF_LIFETIME,
            SPF_BLOCKED,
            cid,
            now,
        ),
    )


def lookup(conn: psycopg.Connection, triple: Triple) -> Row | None:
    found = conn.execute(
        f"SELECT {_COLUMNS} FROM CGreylist WHERE IPNet = %s AND Sender = %s AND Receiver = %s",
        (triple.ipnet, triple.sender, triple.receiver),
    ).fetchone()
    return None if found is None else _row(found)


def count(conn: psycopg.Connection) -> int:
    found = conn.execute("SELECT count(*) FROM CGreylist").fetchone()
    return int(found[0]) if found else 0
