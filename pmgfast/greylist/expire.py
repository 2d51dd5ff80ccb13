"""Greylist maintenance (pmgpolicy's ``run_dequeue``, every 2 minutes in PMG).

:func:`expire` turns every expired triple that never passed into statistics and then deletes
all expired rows, in one transaction:

- the never-passed rows (``Passed = 0 AND ExTime < now``) of one (instance, sender) are one
  mail that was never delivered: one CStatistic row (Bytes 0, incoming, PTime 0, the time the
  triple was first seen) with spamlevel **5**, or **4** when the rows carry an SPF reject
  (``Blocked`` summed to 100000 or more), and one blocked CReceivers row per recipient;
- then ``DELETE FROM CGreylist WHERE ExTime < now``.

Only rows of this node (``CID`` 0 or ``cid``) become statistics, as on a PMG node; the delete
takes every expired row. The housekeeping daemon calls this; ``pmgfast greylist expire`` too.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from pmgfast.greylist.policy import SPF_BLOCKED
from pmgfast.stats.writer import StatRecipient, StatRow, write_batch

GREYLIST_ACTION = "greylist"
SPF_ACTION = "spf-reject"


@dataclass(frozen=True)
class Expired:
    mails: int  # CStatistic rows written (never-delivered mails)
    receivers: int  # their CReceivers rows
    deleted: int  # CGreylist rows removed


def expire(conn: psycopg.Connection, now: int, cid: int = 0) -> Expired:
    """Move expired never-passed triples into the statistics and delete expired rows."""
    with conn.transaction():
        found = conn.execute(
            "SELECT Instance, Sender, Receiver, RCTime, Blocked FROM CGreylist"
            " WHERE Passed = 0 AND ExTime < %s AND CID IN (0, %s)"
            " ORDER BY Instance NULLS FIRST, Sender, RCTime, Receiver",
            (now, cid),
        ).fetchall()
        mails: dict[tuple[str | None, str], list[tuple[str, int, int]]] = {}
        for instance, sender, receiver, rctime, blocked in found:
            mails.setdefault((instance, sender), []).append((receiver, rctime, blocked))
        rows = []
        for (_, sender), entries in mails.items():
            blocked = sum(b for _, _, b in entries)
            spf = blocked >= SPF_BLOCKED
            action = SPF_ACTION if spf else GREYLIST_ACTION
            receivers = tuple(dict.fromkeys(r for r, _, _ in entries))
            rows.append(
                StatRow(
                    time=min(t for _, t, _ in entries),
                    bytes=0,
                    incoming=True,
                    spamlevel=4.0 if spf else 5.0,
                    virus=None,
                    ptime=0,
                    sender=sender,
                    recipients=tuple(StatRecipient(r, True, action, "") for r in receivers),
                )
            )
        if rows:
            write_batch(conn, rows, cid)
        deleted = conn.execute("DELETE FROM CGreylist WHERE ExTime < %s", (now,)).rowcount
    return Expired(len(rows), sum(len(r.recipients) for r in rows), max(deleted, 0))
