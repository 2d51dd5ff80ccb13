"""The auto-welcomelist (``spam.use_awl``): a sender's history pulls a new score towards it.

SpamAssassin's AWL keeps, per sender address and originating network, the number of messages
and their summed score; a new message's score moves ``factor`` of the way towards that mean
(SpamAssassin's ``auto_whitelist_factor``, 0.5). A regular correspondent who once trips a few
content tests stays below the threshold; a spammer who forges a known address from another
network gets no credit, since the network is part of the key. The adjustment is the pseudo-test
``AWL`` in the hits. The history is updated with the raw (unadjusted) score.

:class:`MemoryAWL` is the tests' and evaluation's store; :class:`PgAWL` keeps the table
``SpamAWL`` (migration 0002), shared by the workers.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Protocol

import psycopg

__all__ = ["AWL_FACTOR", "AWLStore", "MemoryAWL", "PgAWL", "adjustment", "network_of"]

AWL_FACTOR = 0.5


def network_of(ip: str | None) -> str:
    """The network an address is remembered by: /16 (IPv4), /48 (IPv6), 'none' if unknown."""
    if not ip:
        return "none"
    try:
        addr = ipaddress.ip_address(ip.strip("[]").removeprefix("IPv6:"))
    except ValueError:
        return "none"
    prefix = 16 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def adjustment(score: float, count: int, total: float, factor: float = AWL_FACTOR) -> float:
    """How much the AWL adds to ``score`` given the sender's history (0 without history)."""
    if count <= 0:
        return 0.0
    mean = total / count
    return (mean - score) * factor


class AWLStore(Protocol):
    def history(self, address: str, net: str) -> tuple[int, float]: ...

    def add(self, address: str, net: str, score: float) -> None: ...


class MemoryAWL:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[int, float]] = {}

    def history(self, address: str, net: str) -> tuple[int, float]:
        return self.rows.get((address.lower(), net), (0, 0.0))

    def add(self, address: str, net: str, score: float) -> None:
        key = (address.lower(), net)
        count, total = self.rows.get(key, (0, 0.0))
        self.rows[key] = (count + 1, total + score)


class PgAWL:
    """The ``SpamAWL`` table; one connection per worker, reopened after an error."""

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self._connect = connect
        self._conn: psycopg.Connection | None = None

    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def history(self, address: str, net: str) -> tuple[int, float]:
        conn = self._db()
        try:
            row = conn.execute(
                "SELECT Count, TotalScore FROM SpamAWL WHERE Address = %s AND IPNet = %s",
                (address.lower()[:255], net),
            ).fetchone()
            conn.commit()
        except psycopg.Error:
            self._conn = None
            raise
        return (int(row[0]), float(row[1])) if row else (0, 0.0)

    def add(self, address: str, net: str, score: float) -> None:
        conn = self._db()
        try:
            conn.execute(
                "INSERT INTO SpamAWL (Address, IPNet, Count, TotalScore, MTime) "
                "VALUES (%s, %s, 1, %s, %s) ON CONFLICT (Address, IPNet) DO UPDATE SET "
                "Count = SpamAWL.Count + 1, TotalScore = SpamAWL.TotalScore + EXCLUDED.TotalScore, "
                "MTime = EXCLUDED.MTime",
                (address.lower()[:255], net, score, int(time.time())),
            )
            conn.commit()
        except psycopg.Error:
            self._conn = None
            raise
