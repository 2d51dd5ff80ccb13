"""Benchmark of greylisting: decisions per second with a warm hot cache and through the
PostgreSQL table holding one million triples.

- **warm cache**: known (auto-welcomed) triples answered by the worker's hot cache, the way a
  steady mail flow sees them; baseline: the same decisions each made by the table (one upsert
  per decision, :func:`pmgfast.greylist.store.decide`) with 1,000,000 triples in it.
- **RCPT stage, warm**: the whole stage per recipient (address parsing, normalisation, the
  compiled SMTP whitelist of the factory rules, the cache), against the table-only baseline.
- **table, 1M triples**: decisions the cache cannot answer (first sight of a triple already in
  the table, new triples inserted), one upsert each, serial.
- **write-back**: cached answers merged into the table per second (one statement per batch).
- **expiry**: expired never-passed triples turned into statistics and deleted, per second.

Every answer is checked against the pure state machine (:func:`~pmgfast.greylist.policy.step`);
a disagreement marks the result ``agreed: NO``.
"""

from __future__ import annotations

import sys
import time

import psycopg

from bench.harness import Result, format_table
from pmgfast.greylist import store
from pmgfast.greylist.expire import expire
from pmgfast.greylist.greylister import Greylister
from pmgfast.greylist.policy import Constants, Row, step
from pmgfast.greylist.stage import RecipientStage, StageSettings
from pmgfast.greylist.triple import Triple
from pmgfast.rules import compile_rules, factory
from tests.pg import PgServer

C = Constants()
NOW = 1_800_000_000
AREA = "greylist"


def triple(i: int) -> Triple:
    return Triple(
        f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.0/24",
        f"user{i % 5000}@domain{i % 997}.example",
        f"rcpt{i}@local.example",
    )


def fill(dsn: str, count: int) -> float:
    """``count`` auto-welcomed triples (passed once, valid for weeks) as ``triple(i)`` makes
    them; returns the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO CGreylist (IPNet, Sender, Receiver, Instance, RCTime, ExTime, Delay,"
            " Blocked, Passed, CID, MTime)"
            " SELECT '10.' || ((i >> 16) & 255) || '.' || ((i >> 8) & 255) || '.0/24',"
            " 'user' || (i %% 5000) || '@domain' || (i %% 997) || '.example',"
            " 'rcpt' || i || '@local.example', 'bench', %s, %s, %s, 1, 1, 0, %s"
            " FROM generate_series(0, %s - 1) AS i",
            (NOW - 3600, NOW + C.lifetime, C.delay, NOW - 3000, count),
        )
        conn.execute("ANALYZE CGreylist")
    return time.perf_counter() - started


def known_row() -> Row:
    return Row(NOW - 3600, NOW + C.lifetime, C.delay, 1, 1, "bench", NOW - 3000)


def run(quick: bool) -> list[Result]:
    rows = 1_000_000
    hot = 5_000 if quick else 20_000
    decisions = 50_000 if quick else 300_000
    table_ops = 3_000 if quick else 20_000
    pg = PgServer.start()
    results: list[Result] = []
    try:
        dsn = pg.socket_dsn(pg.create_database())
        fill_s = fill(dsn, rows)
        gl = Greylister(lambda: psycopg.connect(dsn), C, cache_size=hot * 2)
        try:
            results += _warm(gl, dsn, hot, decisions, rows, fill_s)
            results += _stage(gl, dsn, hot, decisions)
            results += _table(dsn, rows, table_ops)
            results.append(_write_back(gl, hot))
        finally:
            gl.close()
        results.append(_expiry(pg.socket_dsn(pg.create_database()), 20_000 if quick else 100_000))
    finally:
        pg.stop()
    return results


def _table_only(dsn: str, triples: list[Triple], start: int) -> tuple[float, list[bool], int]:
    """Decisions each made by one upsert; (seconds, answers, table size)."""
    answers = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit TO off")  # as the Greylister's connection
        began = time.perf_counter()
        for k, t in enumerate(triples):
            row = store.decide(conn, t, start + k, "b", C)
            answers.append(row.passed > 0 and start + k - row.rctime >= C.delay)
        seconds = time.perf_counter() - began
        size = store.count(conn)
    return seconds, answers, size


def _warm(gl: Greylister, dsn: str, hot: int, decisions: int, rows: int, fill_s: float):
    known = [triple(i * (rows // hot)) for i in range(hot)]
    for k, t in enumerate(known):  # first sight: the table answers, the cache keeps the row
        gl.check(t, "b", NOW + k % 60)
    sequence = [known[(k * 7919) % hot] for k in range(decisions)]
    began = time.perf_counter()
    answers = [gl.check(t, "b", NOW + 60 + (k >> 10)).passed for k, t in enumerate(sequence)]
    seconds = time.perf_counter() - began
    sources = gl.cache.hits
    base_s, base_answers, size = _table_only(dsn, sequence[: max(1000, decisions // 50)], NOW + 60)
    base_rate = len(base_answers) / base_s
    model = [step(known_row(), NOW + 60, False, "b", C)[1] for _ in sequence]
    agreed = answers == model and base_answers == model[: len(base_answers)]
    return [
        Result(
            AREA,
            f"decisions, warm cache ({hot:,} hot triples, {size:,} in the table)",
            "decisions/s",
            decisions / seconds,
            base_rate,
            "table upsert per decision",
            agreed,
            extra={
                "cache_hits": sources,
                "table_rows": size,
                "fill_seconds": round(fill_s, 1),
                "us_per_decision": round(seconds / decisions * 1e6, 2),
            },
        )
    ]


def _stage(gl: Greylister, dsn: str, hot: int, decisions: int):
    ruleset = compile_rules(factory())
    stage = RecipientStage(StageSettings(spf=False), gl, lambda: ruleset, None)
    known = [triple(i * (1_000_000 // hot)) for i in range(hot)]
    calls = []
    for k in range(decisions):
        t = known[(k * 7919) % hot]
        a, b, _ = t.ipnet.split(".", 2)
        ip = f"{a}.{b}.{t.ipnet.split('.')[2]}.{k % 250 + 1}"
        calls.append((ip, t.sender, t.receiver))
    began = time.perf_counter()
    refused = sum(
        stage.check(ip, "mx.example", s, r, "b", now=NOW + 120) is not None for ip, s, r in calls
    )
    seconds = time.perf_counter() - began
    base_s, base_answers, _ = _table_only(
        dsn, [known[(k * 7919) % hot] for k in range(1000)], NOW + 120
    )
    return [
        Result(
            AREA,
            "RCPT stage per recipient, warm (whitelist + normalisation + cache)",
            "decisions/s",
            decisions / seconds,
            len(base_answers) / base_s,
            "table upsert per decision",
            refused == 0 and all(base_answers),
            extra={"us_per_recipient": round(seconds / decisions * 1e6, 2)},
        )
    ]


def _table(dsn: str, rows: int, ops: int):
    existing = [triple((i * 104729) % rows) for i in range(ops)]
    seconds, answers, size = _table_only(dsn, existing, NOW + 200)
    fresh = [
        Triple("172.16.0.0/24", f"new{i}@x.example", f"r{i}@local.example") for i in range(ops)
    ]
    new_s, new_answers, size = _table_only(dsn, fresh, NOW + 200)
    return [
        Result(AREA, f"table decisions, known triples ({size:,} rows)", "decisions/s",
               ops / seconds, agreed=all(answers), extra={"us_per_decision":
                                                          round(seconds / ops * 1e6, 1)}),
        Result(AREA, f"table decisions, new triples ({size:,} rows)", "decisions/s",
               ops / new_s, agreed=not any(new_answers),
               extra={"us_per_decision": round(new_s / ops * 1e6, 1)}),
    ]  # fmt: skip


def _write_back(gl: Greylister, hot: int) -> Result:
    for k in range(hot):
        gl.check(triple(k * (1_000_000 // hot)), "b", NOW + 500)
    pending = gl.cache.pending
    began = time.perf_counter()
    written = gl.flush()
    seconds = time.perf_counter() - began
    return Result(AREA, "write-back of cached answers", "triples/s", written / seconds,
                  agreed=written == pending, extra={"batch": written})  # fmt: skip


def _expiry(dsn: str, count: int) -> Result:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO CGreylist (IPNet, Sender, Receiver, Instance, RCTime, ExTime, Delay,"
            " Blocked, Passed, CID, MTime)"
            " SELECT '192.0.2.0/24', 's' || (i / 3) || '@x.example', 'r' || i || '@l.example',"
            " 'm' || (i / 3), %s, %s, 0, 1, 0, 0, %s FROM generate_series(0, %s - 1) AS i",
            (NOW - 10 * 86400, NOW - 8 * 86400, NOW - 10 * 86400, count),
        )
        began = time.perf_counter()
        done = expire(conn, NOW)
        seconds = time.perf_counter() - began
    return Result(AREA, "expiry into statistics", "triples/s", count / seconds,
                  agreed=done.deleted == count and done.receivers == count,
                  extra={"mails": done.mails})  # fmt: skip


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
