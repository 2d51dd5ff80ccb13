"""Greylisting decisions for a worker: the hot cache first, the table when it must.

:meth:`Greylister.check` answers one (triple, attempt): from the :class:`~pmgfast.greylist.
cache.HotCache` when it can, else with one upsert (:func:`~pmgfast.greylist.store.decide`)
whose returned row is cached. A background thread (:meth:`start`) writes the cache's answers
to the table every ``flush_interval`` seconds in one statement per batch; when the database is
unreachable they wait and are merged with later ones. The database connection is opened lazily,
shared by the worker's threads and reopened after a failure, so the service recovers by itself.
Its commits do not wait for the WAL flush (``synchronous_commit`` off for this session): a
crash can lose the last moments of greylist state, which costs at most one more deferral.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import psycopg

from pmgfast.db.connect import DatabaseUnavailable
from pmgfast.greylist import store
from pmgfast.greylist.cache import DEFAULT_SIZE, HotCache
from pmgfast.greylist.policy import Constants, Row, passes
from pmgfast.greylist.triple import Triple

log = logging.getLogger(__name__)


class GreylistUnavailable(RuntimeError):
    """The table could not be asked (the database is down or refused the statement)."""


@dataclass(frozen=True, slots=True)
class Answer:
    passed: bool
    source: Literal["cache", "table"]
    row: Row | None = None  # the row as the table returned it (source "table")


class _Connection:
    """One lazily opened connection shared by the worker's threads."""

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self._connect = connect
        self._conn: psycopg.Connection | None = None
        self.lock = threading.Lock()

    def run(self, work: Callable[[psycopg.Connection], object]) -> object:
        with self.lock:
            try:
                if self._conn is None or self._conn.closed:
                    conn = self._connect()
                    conn.autocommit = True
                    # a decision need not wait for its WAL flush: losing the last moments of
                    # greylist state in a crash only delays a mail once more
                    conn.execute("SET synchronous_commit TO off")
                    self._conn = conn
                return work(self._conn)
            except psycopg.Error as err:
                self._drop()
                raise GreylistUnavailable(
                    " ".join(str(err).split()) or type(err).__name__
                ) from None
            except DatabaseUnavailable as err:
                self._drop()
                raise GreylistUnavailable(str(err)) from None

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        with self.lock:
            self._drop()


class Greylister:
    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        constants: Constants | None = None,
        cache_size: int = DEFAULT_SIZE,
        cid: int = 0,
        flush_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.constants = constants or Constants()
        self.cache = HotCache(self.constants, cache_size)
        self.cid = cid
        self.flush_interval = flush_interval
        self.clock = clock
        self._db = _Connection(connect)
        self._flush_db = _Connection(connect)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def now(self) -> int:
        return int(self.clock())

    def check(self, triple: Triple, instance: str | None, now: int | None = None) -> Answer:
        """Record one delivery attempt of ``triple`` and say whether it passes. Raises
        :class:`GreylistUnavailable` when the table had to be asked and could not be."""
        now = self.now() if now is None else now
        cached = self.cache.answer(triple, now)
        if cached is not None:
            return Answer(cached, "cache")
        c = self.constants
        row = self._db.run(lambda conn: store.decide(conn, triple, now, instance, c, self.cid))
        assert isinstance(row, Row)
        self.cache.store(triple, row)
        return Answer(passes(row, now, c), "table", row)

    def record_spf_reject(
        self, triple: Triple, instance: str | None, now: int | None = None
    ) -> None:
        now = self.now() if now is None else now
        self._db.run(lambda conn: store.record_spf_reject(conn, triple, now, instance, self.cid))

    # --- writing the cache's answers ----------------------------------------------------
    def flush(self) -> int:
        """Write the pending answers now; returns how many triples were written."""
        pending = self.cache.take_pending()
        if not pending:
            return 0
        try:
            self._flush_db.run(lambda conn: store.merge(conn, pending, self.cid))
        except GreylistUnavailable as err:
            self.cache.give_back(pending)
            log.warning("greylist: %d updates wait for the database: %s", len(pending), err)
            return 0
        return len(pending)

    def start(self) -> Greylister:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="greylist-flush", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            try:
                self.flush()
            except Exception:  # never let the thread die; the next round tries again
                log.exception("greylist: writing cached answers failed")

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.flush()
        self._db.close()
        self._flush_db.close()
