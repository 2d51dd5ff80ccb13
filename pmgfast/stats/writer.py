"""The batched statistics writer: one background thread, ``COPY`` in batches, bounded memory.

``add`` appends a row to an in-memory queue and returns at once; the thread wakes every
``interval`` seconds (or when ``batch`` rows are waiting) and writes up to ``batch`` rows in
one transaction: ids from the ``cstatistic_id_seq`` sequence, ``COPY`` into CStatistic and
CReceivers, and ``Rule.Count`` incremented for the matching rules (pmg-behaviour.md 1.3 step 8,
4.3). When the database is unreachable the rows wait (retried with backoff up to 30 s); past
``max_pending`` rows the oldest are dropped and counted, so an outage never exhausts memory.
A batch the database refuses for its data (not for being down) is logged and dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatRecipient:
    """One CReceivers row: the recipient, whether it was blocked, the final action and rule."""

    receiver: str
    blocked: bool
    action: str
    rule: str


@dataclass(frozen=True, slots=True)
class StatRow:
    """One CStatistic row (``incoming``: PMG's Direction, true for untrusted mail; ``ptime``:
    processing time in ms) with its recipients and the ids of the rules that matched."""

    time: int
    bytes: int
    incoming: bool
    spamlevel: float
    virus: str | None
    ptime: int
    sender: str
    recipients: tuple[StatRecipient, ...]
    rule_ids: tuple[int, ...] = ()


def _text(value: str | None, limit: int) -> str | None:
    """A value PostgreSQL's varchar(limit) accepts: no NUL, valid UTF-8, at most limit chars."""
    if value is None:
        return None
    clean = value.replace("\0", " ")
    clean = clean.encode("utf-8", "replace").decode("utf-8")
    return clean[:limit]


def write_batch(conn: psycopg.Connection, rows: Sequence[StatRow], cid: int = 0) -> None:
    """Write ``rows`` in one transaction on ``conn`` (which is not in autocommit mode)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT nextval('cstatistic_id_seq') FROM generate_series(1, %s)", (len(rows),))
        ids = [r[0] for r in cur.fetchall()]
        with cur.copy(
            "COPY cstatistic (cid, rid, id, time, bytes, direction, spamlevel, virusinfo,"
            " ptime, sender) FROM STDIN"
        ) as copy:
            for rid, row in zip(ids, rows, strict=True):
                copy.write_row(
                    (
                        cid,
                        rid,
                        rid,
                        row.time,
                        min(row.bytes, 2**31 - 1),
                        row.incoming,
                        row.spamlevel,
                        _text(row.virus, 255),
                        min(row.ptime, 2**31 - 1),
                        _text(row.sender, 255),
                    )
                )
        with cur.copy(
            "COPY creceivers (cstatistic_cid, cstatistic_rid, receiver, blocked, action, rule)"
            " FROM STDIN"
        ) as copy:
            for rid, row in zip(ids, rows, strict=True):
                for rcpt in row.recipients:
                    copy.write_row(
                        (
                            cid,
                            rid,
                            _text(rcpt.receiver, 255),
                            rcpt.blocked,
                            _text(rcpt.action, 20),
                            _text(rcpt.rule, 255),
                        )
                    )
        hits = Counter(rule_id for row in rows for rule_id in row.rule_ids)
        if hits:
            cur.execute(
                "UPDATE rule SET count = count + v.n"
                " FROM unnest(%s::int[], %s::int[]) AS v(id, n) WHERE rule.id = v.id",
                (list(hits), list(hits.values())),
            )


class StatsWriter:
    """Collects rows from any thread and writes them in batches from its own thread."""

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        cid: int = 0,
        batch: int = 5000,
        interval: float = 1.0,
        max_pending: int = 200_000,
    ) -> None:
        self.connect = connect
        self.cid = cid
        self.batch = batch
        self.interval = interval
        self.max_pending = max_pending
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self._pending: deque[StatRow] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None

    # --- the caller's side: never waits on the database -------------------------------
    def add(self, row: StatRow) -> None:
        self._pending.append(row)
        if len(self._pending) > self.max_pending:
            self._pending.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 10000 == 0:
                log.error("statistics: %d rows dropped (database unavailable)", self.dropped)
        if len(self._pending) >= self.batch:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> StatsWriter:
        self._thread = threading.Thread(target=self._run, name="stats-writer", daemon=True)
        self._thread.start()
        return self

    def flush(self, timeout: float = 10.0) -> bool:
        """Ask for an immediate write and wait until nothing is pending (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending and time.monotonic() < deadline:
                self._wake.set()
                self._idle.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        return not self._pending

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending (up to ``timeout``), then stop the thread."""
        if self._thread is not None:
            self.flush(timeout)
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout)
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- the writer thread ------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            self._wake.wait(backoff or self.interval)
            self._wake.clear()
            while self._pending and not self._stop.is_set():
                if not self._write_some():
                    backoff = min(30.0, max(0.5, backoff * 2))
                    break
                backoff = 0.0
            with self._idle:
                self._idle.notify_all()

    def _write_some(self) -> bool:
        rows = [self._pending[i] for i in range(min(self.batch, len(self._pending)))]
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self.connect()
            write_batch(self._conn, rows, self.cid)
        except (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError) as err:
            log.error("statistics: %d rows refused by the database, dropped: %s", len(rows), err)
            self._discard(rows)
            self.dropped += len(rows)
            return True
        except Exception as err:  # database down, connection lost: keep the rows, retry
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                log.error("statistics: cannot write (%s); %d rows wait", err, len(self._pending))
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None
            return False
        self._discard(rows)
        self.written += len(rows)
        return True

    def _discard(self, rows: list[StatRow]) -> None:
        """Remove the rows just handled from the queue's head (some may already have been
        dropped by ``add`` on overflow while they were being written)."""
        for row in rows:
            if self._pending and self._pending[0] is row:
                self._pending.popleft()
