"""Where the Bayesian filter keeps its token counts: PostgreSQL or memory.

Both implement :class:`TokenStore`: the learned totals (``nspam``, ``nham``), the spam and ham
counts of a batch of token ids, and learning (or forgetting: a negative count) a message's ids.

PostgreSQL (tables ``BayesToken``, ``BayesInfo``, ``BayesSeen`` of migration 0001) is the shared
store of a gateway or cluster node. Each worker process keeps an in-memory cache in front of it:

- **Reads**: the counts of ids not in the cache come from one ``= ANY(...)`` query per message;
  ids the database does not know are cached as (0, 0) too. The cache (and the totals) are
  dropped after ``ttl`` seconds, so a worker sees what the others learned within that time,
  and when it grows past ``max_entries``.
- **Writes**: learning adds the message's ids to a pending batch of per-token deltas (two
  :class:`collections.Counter`, spam and ham, counted in C); :meth:`flush` writes the batch in
  one transaction: the deltas go to a temporary table with ONE text ``COPY`` (the lines are
  formatted by ``str.join`` over the counters, no Python loop per token when a batch holds one
  class) and ONE ``MERGE`` folds them into ``BayesToken`` in token order (adding to existing
  rows, inserting new ones, deleting rows that forgetting brought to 0/0). Rows are locked in
  token order, so concurrent learners wait for each other instead of deadlocking, and add to
  each other's counts instead of overwriting them. ``MERGE`` is about a third cheaper for the
  server than ``INSERT ... ON CONFLICT`` but raises a unique violation when another learner
  inserted one of the batch's new tokens meanwhile; the merge then rolls back to a savepoint
  and runs the ``INSERT ... ON CONFLICT DO UPDATE`` (plus a clamped ``UPDATE`` and a
  ``DELETE`` when the batch forgot something), which is also the way on PostgreSQL before 15.
  ``BayesInfo`` gets one ``UPDATE`` per class and ``BayesSeen`` one ``DELETE ... = ANY`` and
  one ``INSERT ... SELECT FROM unnest(...)`` for the whole batch. The transaction runs with
  ``synchronous_commit`` off (learning is repeatable: a crash may lose the last batch, never
  corrupt) and enough ``work_mem`` to sort the batch in memory. The worker's own cache is
  updated with the same deltas, so it sees its learning at once. The server's cost is per
  distinct token of a batch (about 1.5 us to insert a row, more to update one), so larger
  batches cost less per message.

``BayesSeen`` remembers which messages were learned as what (key: :func:`message_key`), so
learning a message twice counts it once, relearning it the other way moves its counts, and
``forget`` knows what to undo. The memory store (evaluation, tests) behaves the same.
"""

from __future__ import annotations

import hashlib
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import compress
from operator import not_
from typing import Protocol

import psycopg

__all__ = [
    "MemoryTokenStore",
    "PgTokenStore",
    "TokenStore",
    "message_key",
]

Ids = array  # array('q') of token ids

_SPAM_LINE = "%d\t%d\t0\n"  # COPY lines of the deltas: token, spam, ham
_HAM_LINE = "%d\t0\t%d\n"
_BOTH_LINE = "%d\t%d\t%d\n"

# What a MERGE may meet when another learner writes the same tokens at the same time: a new
# token it inserted meanwhile, a lock cycle, a row it deleted (older 15.x releases).
_MERGE_RACES = (
    psycopg.errors.UniqueViolation,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
)


def message_key(raw: bytes, message_id: str = "") -> str:
    """The ``BayesSeen`` key of a message: a digest of its body and its Message-Id, at most
    255 characters (the same mail learned twice has the same key)."""
    end = raw.find(b"\n\n")
    body = raw[end:] if end >= 0 else raw
    digest = hashlib.sha1(body, usedforsecurity=False).hexdigest()
    return (digest + "@" + message_id.strip())[:255]


class TokenStore(Protocol):
    def totals(self) -> tuple[int, int]:
        """(nspam, nham): how many spam and ham messages were learned."""
        ...

    def counts(self, ids: Ids) -> tuple[array[int], array[int]]:
        """The spam and ham counts of each id (0 for an unknown id), as ``array('q')``."""
        ...

    def seen(self, key: str) -> str | None:
        """``"S"``/``"H"`` when the message with this key was learned, else None."""
        ...

    def learn(self, ids: Ids, spam: bool, key: str | None = None, count: int = 1) -> None:
        """Add (``count`` = 1) or remove (``count`` = -1) one message's ids."""
        ...

    def flush(self) -> None:
        """Make the pending learning durable (a no-op for the memory store)."""
        ...

    def clear(self) -> None:
        """Forget everything."""
        ...

    def dump(self) -> Iterator[tuple[int, int, int]]:
        """Every token as (id, spam, ham)."""
        ...


def _absent(keys: set[int], counter: Counter[int]) -> Iterator[bool]:
    """For each of ``counter``'s keys in order, whether it is not in ``keys`` (in C)."""
    return map(not_, map(keys.__contains__, counter.keys()))


class MemoryTokenStore:
    """Token counts in a dict: the evaluation's and the tests' store."""

    def __init__(self) -> None:
        self.spam: Counter[int] = Counter()
        self.ham: Counter[int] = Counter()
        self.nspam = 0
        self.nham = 0
        self._seen: dict[str, str] = {}

    def totals(self) -> tuple[int, int]:
        return self.nspam, self.nham

    def counts(self, ids: Ids) -> tuple[array[int], array[int]]:
        spam, ham = self.spam, self.ham
        return array("q", [spam[i] for i in ids]), array("q", [ham[i] for i in ids])

    def seen(self, key: str) -> str | None:
        return self._seen.get(key)

    def learn(self, ids: Ids, spam: bool, key: str | None = None, count: int = 1) -> None:
        target = self.spam if spam else self.ham
        if count > 0:
            target.update(ids)
        else:
            target.subtract(ids)
            for i in ids:
                if target[i] <= 0:
                    del target[i]
        if spam:
            self.nspam = max(0, self.nspam + count)
        else:
            self.nham = max(0, self.nham + count)
        if key is not None:
            if count > 0:
                self._seen[key] = "S" if spam else "H"
            else:
                self._seen.pop(key, None)

    def flush(self) -> None:
        return None

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def dump(self) -> Iterator[tuple[int, int, int]]:
        for token in sorted(set(self.spam) | set(self.ham)):
            yield token, self.spam[token], self.ham[token]


class PgTokenStore:
    """The PostgreSQL store with a per-worker cache (see the module docstring).

    ``connect`` opens a connection (``Database.connect`` or ``psycopg.connect`` bound to a
    DSN); the store keeps one open and opens it again after an error.
    """

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        ttl: float = 60.0,
        max_entries: int = 2_000_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._conn: psycopg.Connection | None = None
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._cache: dict[int, tuple[int, int]] = {}
        self._totals: tuple[int, int] | None = None
        self._loaded = clock()
        self._dspam: Counter[int] = Counter()
        self._dham: Counter[int] = Counter()
        self._dnspam = 0
        self._dnham = 0
        self._seen_pending: dict[str, str | None] = {}
        self._seen_known: dict[str, str | None] = {}  # prefetched (learning in batches)
        self._forgetting = False  # the batch has negative deltas
        self.merge_fallbacks = 0  # batches a concurrent learner sent to the upsert
        self.pending_messages = 0

    # --- connection -----------------------------------------------------------------------
    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _expire(self) -> None:
        now = self._clock()
        if now - self._loaded > self.ttl or len(self._cache) > self.max_entries:
            self._cache.clear()
            self._totals = None
            self._loaded = now

    # --- reading --------------------------------------------------------------------------
    def totals(self) -> tuple[int, int]:
        self._expire()
        if self._totals is None:
            rows: dict[str, int] = dict(
                self._db().execute("SELECT Name, Value FROM BayesInfo").fetchall()
            )
            self._totals = (int(rows.get("nspam", 0)), int(rows.get("nham", 0)))
            self._db().commit()
        s, h = self._totals
        return max(0, s + self._dnspam), max(0, h + self._dnham)

    def counts(self, ids: Ids) -> tuple[array[int], array[int]]:
        self._expire()
        cache = self._cache
        missing = [i for i in ids if i not in cache]
        if missing:
            conn = self._db()
            rows = conn.execute(
                "SELECT Token, Spam, Ham FROM BayesToken WHERE Token = ANY(%s)", (missing,)
            ).fetchall()
            conn.commit()
            for token in missing:
                cache[token] = (0, 0)
            for token, s, h in rows:
                cache[token] = (s, h)
        dspam, dham = self._dspam, self._dham
        spam = array("q")
        ham = array("q")
        for i in ids:
            s, h = cache[i]
            spam.append(max(0, s + dspam.get(i, 0)))
            ham.append(max(0, h + dham.get(i, 0)))
        return spam, ham

    def prefetch_seen(self, keys: Iterable[str]) -> None:
        """Look up many ``BayesSeen`` keys in one query (a learning batch), so :meth:`seen`
        needs no round trip per message."""
        wanted = [k for k in keys if k not in self._seen_pending]
        if not wanted:
            return
        conn = self._db()
        rows = conn.execute(
            "SELECT MsgID, Label FROM BayesSeen WHERE MsgID = ANY(%s)", (wanted,)
        ).fetchall()
        conn.commit()
        self._seen_known = dict.fromkeys(wanted)
        self._seen_known.update({str(k): str(v) for k, v in rows})

    def seen(self, key: str) -> str | None:
        if key in self._seen_pending:
            return self._seen_pending[key]
        if key in self._seen_known:
            return self._seen_known[key]
        conn = self._db()
        row = conn.execute("SELECT Label FROM BayesSeen WHERE MsgID = %s", (key,)).fetchone()
        conn.commit()
        return None if row is None else str(row[0])

    # --- writing --------------------------------------------------------------------------
    def learn(self, ids: Ids, spam: bool, key: str | None = None, count: int = 1) -> None:
        target = self._dspam if spam else self._dham
        if count > 0:
            target.update(ids)  # counted in C
        else:
            target.subtract(ids)
            self._forgetting = True
        if spam:
            self._dnspam += count
        else:
            self._dnham += count
        if key is not None:
            self._seen_pending[key] = ("S" if spam else "H") if count > 0 else None
        self.pending_messages += 1

    @property
    def pending_tokens(self) -> int:
        """How many token deltas the pending batch holds (its memory and its write cost)."""
        return len(self._dspam) + len(self._dham)

    def _delta_lines(self) -> str:
        """The pending deltas as ``COPY`` text lines ``token<TAB>spam<TAB>ham``.

        Formatted by ``str.join`` over ``map``/``compress``/``zip`` of the counters, so the
        loop per token runs in C; a mixed batch writes the tokens of both classes on lines of
        their own. Zero deltas (learned and forgotten in one batch) are skipped
        by the merge, not here.
        """
        spam, ham = self._dspam, self._dham
        if not ham:
            return "".join(map(_SPAM_LINE.__mod__, spam.items()))
        if not spam:
            return "".join(map(_HAM_LINE.__mod__, ham.items()))
        both = spam.keys() & ham.keys()  # few: the words of both classes in one batch
        return "".join(
            [
                "".join(map(_SPAM_LINE.__mod__, compress(spam.items(), _absent(both, spam)))),
                "".join(map(_HAM_LINE.__mod__, compress(ham.items(), _absent(both, ham)))),
                "".join(
                    map(
                        _BOTH_LINE.__mod__,
                        zip(
                            both,
                            map(spam.__getitem__, both),
                            map(ham.__getitem__, both),
                            strict=True,
                        ),
                    )
                ),
            ]
        )

    def flush(self) -> None:
        """Write the pending learning in one transaction (see the module docstring)."""
        if not self.pending_messages and not self._seen_pending:
            return
        lines = self._delta_lines() if self._dspam or self._dham else ""
        now = int(time.time())
        conn = self._db()
        try:
            with conn.transaction():
                conn.execute("SET LOCAL synchronous_commit TO off")
                conn.execute("SET LOCAL work_mem TO '64MB'")  # the merge sorts in memory
                if lines:
                    self._merge_tokens(conn, lines, now)
                for name, delta in (("nspam", self._dnspam), ("nham", self._dnham)):
                    if delta:
                        conn.execute(
                            "UPDATE BayesInfo SET Value = GREATEST(Value + %s, 0) WHERE Name = %s",
                            (delta, name),
                        )
                self._write_seen(conn, now)
        except psycopg.Error:
            self.close()  # the batch stays pending: the next flush writes it again
            raise
        self._applied()

    def _merge_tokens(self, conn: psycopg.Connection, lines: str, now: int) -> None:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bayes_delta "
            "(Token bigint, Spam integer, Ham integer) ON COMMIT DELETE ROWS"
        )
        with conn.cursor().copy("COPY bayes_delta (Token, Spam, Ham) FROM STDIN") as copy:
            copy.write(lines)
        if conn.info.server_version >= 150000:
            try:
                with conn.transaction():  # a savepoint: a failed MERGE leaves no trace
                    self._merge(conn, now)
                return
            except _MERGE_RACES:
                self.merge_fallbacks += 1  # another learner inserted one of our new tokens
        self._upsert(conn, now)

    def _merge(self, conn: psycopg.Connection, now: int) -> None:
        """The batch in one ``MERGE``: about a third cheaper for the server than ``INSERT ...
        ON CONFLICT`` (no speculative insertion: a new token is one heap and one index
        record), forgetting included. Rows are merged in token order (no hash join), so
        concurrent learners lock in the same order. A token another learner inserted since our
        snapshot raises a unique violation instead of merging: the caller then rolls back to
        its savepoint and runs :meth:`_upsert`, which merges it."""
        conn.execute("SET LOCAL enable_hashjoin TO off")
        conn.execute(
            "MERGE INTO BayesToken b USING (SELECT Token, Spam, Ham FROM bayes_delta "
            "WHERE Spam <> 0 OR Ham <> 0 ORDER BY Token) d ON b.Token = d.Token "
            "WHEN MATCHED AND b.Spam + d.Spam <= 0 AND b.Ham + d.Ham <= 0 THEN DELETE "
            "WHEN MATCHED THEN UPDATE SET Spam = GREATEST(b.Spam + d.Spam, 0), "
            "Ham = GREATEST(b.Ham + d.Ham, 0), ATime = %(now)s "
            "WHEN NOT MATCHED AND d.Spam >= 0 AND d.Ham >= 0 THEN "
            "INSERT (Token, Spam, Ham, ATime) VALUES (d.Token, d.Spam, d.Ham, %(now)s)",
            {"now": now},
        )

    def _upsert(self, conn: psycopg.Connection, now: int) -> None:
        """The batch with ``INSERT ... ON CONFLICT``: safe against any concurrent learner
        (the fallback of :meth:`_merge`, and the way on PostgreSQL before 15)."""
        conn.execute(
            "INSERT INTO BayesToken (Token, Spam, Ham, ATime) "
            "SELECT Token, Spam, Ham, %s FROM bayes_delta "
            "WHERE Spam >= 0 AND Ham >= 0 AND (Spam > 0 OR Ham > 0) ORDER BY Token "
            "ON CONFLICT (Token) DO UPDATE SET Spam = BayesToken.Spam + EXCLUDED.Spam, "
            "Ham = BayesToken.Ham + EXCLUDED.Ham, ATime = EXCLUDED.ATime",
            (now,),
        )
        if not self._forgetting:
            return
        conn.execute(
            "UPDATE BayesToken b SET Spam = GREATEST(b.Spam + d.Spam, 0), "
            "Ham = GREATEST(b.Ham + d.Ham, 0) FROM bayes_delta d "
            "WHERE b.Token = d.Token AND (d.Spam < 0 OR d.Ham < 0)"
        )
        conn.execute(
            "DELETE FROM BayesToken WHERE Spam = 0 AND Ham = 0 AND Token IN "
            "(SELECT Token FROM bayes_delta WHERE Spam < 0 OR Ham < 0)"
        )

    def _write_seen(self, conn: psycopg.Connection, now: int) -> None:
        forgotten = sorted(k for k, label in self._seen_pending.items() if label is None)
        learned = sorted((k, label) for k, label in self._seen_pending.items() if label)
        if forgotten:
            conn.execute("DELETE FROM BayesSeen WHERE MsgID = ANY(%s)", (forgotten,))
        if learned:
            conn.execute(
                "INSERT INTO BayesSeen (MsgID, Label, Time) "
                'SELECT k, l, %s FROM unnest(%s::text[], %s::"char"[]) AS u(k, l) '
                "ON CONFLICT (MsgID) DO UPDATE SET Label = EXCLUDED.Label, Time = EXCLUDED.Time",
                (now, [k for k, _ in learned], [label for _, label in learned]),
            )

    def _applied(self) -> None:
        """The pending batch is in the database: fold it into the cache and start afresh."""
        cache = self._cache
        if cache:
            spam, ham = self._dspam, self._dham
            for token in cache.keys() & (spam.keys() | ham.keys()):
                s, h = cache[token]
                cache[token] = (max(0, s + spam.get(token, 0)), max(0, h + ham.get(token, 0)))
        if self._totals is not None:
            s, h = self._totals
            self._totals = (max(0, s + self._dnspam), max(0, h + self._dnham))
        self._dspam.clear()
        self._dham.clear()
        self._dnspam = self._dnham = 0
        self._forgetting = False
        self._seen_pending.clear()
        self._seen_known.clear()
        self.pending_messages = 0

    def clear(self) -> None:
        conn = self._db()
        with conn.transaction():
            conn.execute("DELETE FROM BayesToken")
            conn.execute("DELETE FROM BayesSeen")
            conn.execute("UPDATE BayesInfo SET Value = 0 WHERE Name IN ('nspam', 'nham')")
        self._cache.clear()
        self._totals = None
        self._dspam.clear()
        self._dham.clear()
        self._dnspam = self._dnham = 0
        self._forgetting = False
        self._seen_pending.clear()
        self._seen_known.clear()
        self.pending_messages = 0

    def dump(self) -> Iterator[tuple[int, int, int]]:
        self.flush()
        conn = self._db()
        with conn.transaction(), conn.cursor(name="bayes_dump") as cur:  # a server-side cursor
            cur.execute("SELECT Token, Spam, Ham FROM BayesToken ORDER BY Token")
            for token, s, h in cur:
                yield int(token), int(s), int(h)

    def load(self, rows: Iterable[tuple[int, int, int]], nspam: int, nham: int) -> int:
        """Replace the store's content with ``rows`` (import); returns how many tokens."""
        conn = self._db()
        n = 0
        with conn.transaction():
            conn.execute("DELETE FROM BayesToken")
            conn.execute("DELETE FROM BayesSeen")
            now = int(time.time())
            with conn.cursor().copy("COPY BayesToken (Token, Spam, Ham, ATime) FROM STDIN") as copy:
                for token, s, h in rows:
                    if s < 0 or h < 0:
                        raise ValueError(f"negative count for token {token}")
                    if s or h:
                        copy.write_row((token, s, h, now))
                        n += 1
            conn.execute("UPDATE BayesInfo SET Value = %s WHERE Name = 'nspam'", (nspam,))
            conn.execute("UPDATE BayesInfo SET Value = %s WHERE Name = 'nham'", (nham,))
        self._cache.clear()
        self._totals = None
        return n

    def token_count(self) -> int:
        conn = self._db()
        row = conn.execute("SELECT count(*) FROM BayesToken").fetchone()
        conn.commit()
        return int(row[0]) if row else 0
