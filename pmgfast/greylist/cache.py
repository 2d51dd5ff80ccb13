"""The hot cache: greylist answers without a database round trip for the triples just seen.

A worker keeps the rows it read or wrote (bounded, least recently used out first). An attempt is
answered from the cache when the answer cannot depend on what other workers or nodes did since:

- the triple is still within its delay (``now - RCTime < delay``): defer, whatever happened
  elsewhere, because nobody can pass a triple before its delay is over;
- the triple has passed and has not expired (``now < ExTime``): pass. ``ExTime`` only grows
  (every pass sets it to now + 36 days), so a row the cache thinks valid is valid in the table
  too, and the expiry job never deletes it.

Everything else goes to the database: a triple not cached, a row whose delay is over but which
never passed (the retry of a greylisted mail), an expired row, and every attempt with the empty
sender (a pass sets its ``ExTime`` to now, so only the table knows). The cache replays
:func:`~pmgfast.greylist.policy.step` for its answers and keeps the increments as pending
:class:`~pmgfast.greylist.store.Delta` values, which :class:`~pmgfast.greylist.greylister.
Greylister` writes in batches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from pmgfast.greylist.policy import Constants, Row
from pmgfast.greylist.store import Delta
from pmgfast.greylist.triple import Triple

DEFAULT_SIZE = 200_000
MAX_PENDING = 100_000


class HotCache:
    """Thread-safe (libmilter runs each SMTP session in its own thread)."""

    def __init__(self, constants: Constants, size: int = DEFAULT_SIZE) -> None:
        self.constants = constants
        self.size = max(1, size)
        self._rows: OrderedDict[Triple, Row] = OrderedDict()
        self._pending: dict[Triple, list] = {}  # [row, blocked, passed] since the last write
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.dropped = 0  # pending increments given up (only past MAX_PENDING triples)

    def __len__(self) -> int:
        return len(self._rows)

    def answer(self, triple: Triple, now: int) -> bool | None:
        """True (pass) or False (defer) when the cache may answer, else None (ask the table).

        The two branches of :func:`~pmgfast.greylist.policy.step` the cache may take, written
        out (this is the hot path; the tests hold it to ``step``)."""
        if triple.sender == "":
            return None
        c = self.constants
        with self._lock:
            row = self._rows.get(triple)
            if row is None:
                self.misses += 1
                return None
            if now - row.rctime < c.delay:  # within the delay: defer, count a block
                new = Row(row.rctime, row.extime, row.delay, row.blocked + 1, row.passed,
                          row.instance, now)  # fmt: skip
                passed = False
            elif row.passed > 0 and now < row.extime:  # known and valid: pass, extend
                new = Row(row.rctime, now + c.lifetime, row.delay, row.blocked, row.passed + 1,
                          row.instance, now)  # fmt: skip
                passed = True
            else:
                self.misses += 1
                return None
            self._rows[triple] = new
            self._rows.move_to_end(triple)
            pending = self._pending.get(triple)
            if pending is None:
                if len(self._pending) >= MAX_PENDING:
                    self.dropped += 1
                else:
                    self._pending[triple] = [new, 0 if passed else 1, 1 if passed else 0]
            else:
                pending[0] = new
                pending[1 if not passed else 2] += 1
            self.hits += 1
            return passed

    def store(self, triple: Triple, row: Row) -> None:
        """Remember the row the table returned."""
        with self._lock:
            self._rows[triple] = row
            self._rows.move_to_end(triple)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def take_pending(self) -> list[Delta]:
        """The increments to write (the caller writes them or gives them back)."""
        with self._lock:
            pending = [Delta(t, row, blocked, passed) for t, (row, blocked, passed) in
                       self._pending.items()]  # fmt: skip
            self._pending.clear()
            return pending

    def give_back(self, deltas: list[Delta]) -> None:
        """Increments whose write failed: merged with what came since, tried again later."""
        with self._lock:
            for delta in deltas:
                newer = self._pending.get(delta.triple)
                if newer is None:
                    if len(self._pending) >= MAX_PENDING:
                        self.dropped += 1
                        continue
                    self._pending[delta.triple] = [delta.row, delta.blocked, delta.passed]
                else:
                    newer[1] += delta.blocked
                    newer[2] += delta.passed

    @property
    def pending(self) -> int:
        return len(self._pending)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._pending.clear()
