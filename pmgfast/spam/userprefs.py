"""Per-user welcome and blocklists for the Spam object (PMG ``UserPrefs`` rows ``WL``/``BL``).

The rule engine decides with them (:mod:`pmgfast.rules.engine`: a welcomelisted sender skips
the spam verdict for that recipient, a blocklisted one matches as ``USER_IN_BLOCKLIST`` with
score 100); the entries are parsed as PMG converts them (:mod:`pmgfast.rules.userlists`). This
module reads the rows for a message's recipients and finds the sender addresses they are
checked against:

- :func:`sender_addresses`: PMG's ``all_from_addrs``: the addresses of ``Resent-From`` if the
  message has that header, else of ``From``, ``Envelope-Sender``, ``Resent-Sender``,
  ``X-Envelope-From`` and ``EnvelopeFrom`` (the envelope sender is added by the engine);
- :class:`UserPrefsCache`: the lists of a set of primary addresses, one query for all
  recipients of a message, cached per worker for ``ttl`` seconds (a list edited in the
  quarantine interface applies within that time).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable, Sequence

import psycopg

from pmgfast.rules.userlists import UserLists

__all__ = ["UserPrefsCache", "load_user_lists", "sender_addresses"]

_FROM_HEADERS = ("from", "envelope-sender", "resent-sender", "x-envelope-from", "envelopefrom")


def sender_addresses(headers: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """PMG's sender set from the top-level headers (module docstring), first-seen order."""
    by_name: dict[str, list[str]] = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(value)
    names = ("resent-from",) if by_name.get("resent-from") else _FROM_HEADERS
    found: dict[str, None] = {}
    for name in names:
        for _, address in email.utils.getaddresses(by_name.get(name, [])):
            if address and "@" in address:
                found.setdefault(address)
    return tuple(found)


def load_user_lists(conn: psycopg.Connection, pmails: Iterable[str]) -> dict[str, UserLists]:
    """The lists of each primary address that has any (lower-cased keys)."""
    wanted = sorted({p.lower() for p in pmails})
    if not wanted:
        return {}
    rows = conn.execute(
        "SELECT lower(PMail), Name, Data FROM UserPrefs WHERE lower(PMail) = ANY(%s)", (wanted,)
    ).fetchall()
    lists: dict[str, dict[str, str]] = {}
    for pmail, name, data in rows:
        lists.setdefault(pmail, {})[name] = data
    return {p: UserLists.parse(v.get("WL"), v.get("BL")) for p, v in lists.items()}


class UserPrefsCache:
    """Per-worker cache of user lists in front of PostgreSQL (see the module docstring)."""

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._conn: psycopg.Connection | None = None
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, UserLists | None]] = {}

    def lists(self, pmails: Iterable[str]) -> dict[str, UserLists]:
        now = self._clock()
        wanted = {p.lower() for p in pmails}
        stale = [p for p in wanted if p not in self._cache or now - self._cache[p][0] > self.ttl]
        if stale:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            try:
                found = load_user_lists(self._conn, stale)
                self._conn.commit()
            except psycopg.Error:
                self._conn = None
                raise
            for p in stale:
                self._cache[p] = (now, found.get(p))
        out = {}
        for p in wanted:
            value = self._cache[p][1]
            if value is not None:
                out[p] = value
        return out
