"""Benchmark of the milter pool: messages per second through the milter protocol and through a
real Postfix, against a do-nothing milter measured in the same run; latency, CPU and memory per
worker; the statistics writer.

- **milter interface** (``bench/miltergen.py``, no Postfix): the pool with PMG's default rule
  set (spam and virus scanning off) filters the SpamAssassin ham and spam corpus over 8
  parallel connections, with 1 and 2 workers. Baseline: the same pool and callbacks with a
  pipeline that accepts everything (``bench/nullmilter.py``). Extra figures: p50/p99 latency
  (end of message to verdict), CPU per message (master and workers), peak RSS per worker, and
  RSS per worker after the whole run (10,000 messages in the full run).
- **through Postfix**: ``smtp-source`` (10 sessions) -> a private Postfix (before-queue,
  configured by ``pmgfast config postfix``) -> the pool -> ``smtp-sink``, timed until the
  queue is empty; baseline: the same Postfix with the do-nothing milter. Target: 80 % of it.
- **statistics**: rows per second written by :class:`~pmgfast.stats.StatsWriter` (COPY in
  batches) against row-by-row INSERTs, and what ``add`` costs the message path.

Targets (issue 5): >= 500 msg/s on 2 cores through the milter interface; >= 80 % of the
do-nothing rate through Postfix; < 80 MB RSS per worker after 10,000 messages; >= 30,000
statistics rows/s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.harness import Result, format_table
from bench.miltergen import drive
from pmgfast.rules import store
from pmgfast.stats import StatRecipient, StatRow, StatsWriter, writer
from tests.e2e.harness import Gateway, Pool, Ports
from tests.pg import PgServer

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "spamassassin"
NULL_MILTER = [sys.executable, "-m", "bench.nullmilter", "{socket}", "{workers}"]


def corpus_messages(limit: int) -> list[bytes]:
    ham = sorted((CORPUS / "ham").iterdir())
    spam = sorted((CORPUS / "spam").iterdir())
    mixed = [p for pair in zip(ham, spam, strict=False) for p in pair] + ham[len(spam) :]
    return [p.read_bytes() for p in mixed[:limit]]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def memory_mib(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _pool(root: Path, dsn: str, workers: int, null: bool) -> Pool:
    ports = Ports()
    command = None
    if null:
        command = [
            a.format(socket=f"inet:{ports.milter}@127.0.0.1", workers=workers) for a in NULL_MILTER
        ]
    pool = Pool(root, ports, dsn, root / "filter.log", command)
    pool.write_config(
        "before-queue",
        {"mail": {"max_filters": str(workers)},
         "pmgfast": {"milter_max_messages": "1000000", "milter_max_growth": "1000",
                     "spam_scanner": "0"}},  # the conditions: spam scanning off
    )  # fmt: skip
    return pool


def milter_interface(
    dsn: str, root: Path, workers: int, messages: list[bytes], total: int, warmup: int
) -> tuple[Result, Result]:
    figures = {}
    for null in (True, False):
        pool = _pool(root / f"{'null' if null else 'pmgfast'}-{workers}", dsn, workers, null)
        pool.start()
        try:
            drive(pool.socket, messages, warmup)
            pids = [*pool.workers(), pool.process.pid]  # type: ignore[union-attr]
            cpu0 = cpu_seconds(pids)
            load = drive(pool.socket, messages, total)
            cpu = cpu_seconds(pids) - cpu0
            workers_now = pool.workers()
            figures[null] = {
                "rate": load.rate,
                "p50_ms": load.p50 * 1000,
                "p99_ms": load.percentile(99) * 1000,
                "cpu_ms_per_msg": cpu / max(1, load.messages) * 1000,
                "rss_mib_per_worker": max(memory_mib(p, "VmRSS") for p in workers_now),
                "peak_rss_mib_per_worker": max(memory_mib(p, "VmHWM") for p in workers_now),
                "messages": load.messages + warmup,
                "ok": load.errors == 0
                and load.messages == total
                and sum(load.actions.values()) == total,
            }
        finally:
            pool.stop()
    ours, null = figures[False], figures[True]
    rate = Result(
        "milter", f"milter interface, {workers} worker{'s' * (workers > 1)}", "msg/s",
        ours["rate"], null["rate"], "do-nothing milter", agreed=ours["ok"] and null["ok"],
        extra={"pmgfast": ours, "do-nothing": null, "target_msg_s": 500 if workers == 2 else None},
    )  # fmt: skip
    rss = Result(
        "milter", f"RSS per worker after {ours['messages']:,} messages, {workers} workers",
        "MiB", ours["rss_mib_per_worker"], null["rss_mib_per_worker"], "do-nothing milter",
        higher_is_better=False, extra={"peak": ours["peak_rss_mib_per_worker"],
                                       "target_mib": 80},
    )  # fmt: skip
    return rate, rss


def _smtp_source(port: int, files: list[Path], per_file: int) -> None:
    for path in files:
        subprocess.run(
            ["smtp-source", "-s", "10", "-m", str(per_file), "-F", str(path), "-d",
             "-f", "sender@ext.example", "-t", "user@local.example", f"127.0.0.1:{port}"],
            check=True, capture_output=True,
        )  # fmt: skip


def through_postfix(dsn: str, root: Path, workers: int, total: int) -> Result:
    files = []
    for name, path in (("ham", CORPUS / "ham"), ("spam", CORPUS / "spam")):
        for p in sorted(path.iterdir())[:2]:
            target = root / f"{name}-{p.name[:20]}.eml"
            root.mkdir(parents=True, exist_ok=True)
            # smtp-source sends the file as it is, adding CRLFs: give it LF line ends
            target.write_bytes(p.read_bytes().replace(b"\r\n", b"\n"))
            files.append(target)
    per_file = max(1, total // len(files))
    rates = {}
    ok = {}
    for null in (True, False):
        command = None
        if null:
            command = [a.replace("{workers}", str(workers)) for a in NULL_MILTER]
        gw = Gateway.start(
            root / f"postfix-{'null' if null else 'pmgfast'}-{workers}", dsn, "before-queue",
            # the conditions: default rules, spam and virus scanning off
            extra={"mail": {"max_filters": str(workers)},
                   "pmgfast": {"milter_max_messages": "1000000", "spam_scanner": "0"}},
            milter_command=command,
        )  # fmt: skip
        try:
            _smtp_source(gw.ports.ext, files[:1], 20)  # warm up
            gw.wait_settled(120)
            gw.sink.clear()
            start = time.perf_counter()
            _smtp_source(gw.ports.ext, files, per_file)
            gw.wait_settled(600)
            seconds = time.perf_counter() - start
            delivered = len(gw.sink.messages())
            rates[null] = delivered / seconds
            ok[null] = delivered == per_file * len(files)
        finally:
            gw.stop()
    return Result(
        "milter", f"through Postfix (smtp-source -> postfix -> milter -> smtp-sink), "
        f"{workers} worker{'s' * (workers > 1)}", "msg/s", rates[False], rates[True],
        "same Postfix, do-nothing milter", agreed=ok[False] and ok[True],
        extra={"messages": per_file * len(files), "target_share": 0.8,
               "share": rates[False] / rates[True] if rates[True] else None},
    )  # fmt: skip


def statistics(dsn: str, rows: int) -> list[Result]:
    sample = [
        StatRow(int(time.time()), 4000 + i, i % 3 != 0, float(i % 7), None, 12,
                f"sender{i % 97}@ext.example",
                (StatRecipient(f"user{i % 13}@local.example", False, "accept", "default-accept"),
                 StatRecipient(f"other{i % 11}@local.example", i % 5 == 0, "block", "block")))
        for i in range(rows)
    ]  # fmt: skip
    stats = StatsWriter(lambda: psycopg.connect(dsn), batch=5000).start()
    start = time.perf_counter()
    for row in sample:
        stats.add(row)
    add_us = (time.perf_counter() - start) / rows * 1e6
    stats.flush(300)
    seconds = time.perf_counter() - start
    stats.close()
    copied = 3 * rows / seconds  # one CStatistic and two CReceivers rows per message
    baseline_rows = max(1000, rows // 10)
    with psycopg.connect(dsn) as conn:
        start = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            for row in sample[:baseline_rows]:
                cur.execute(
                    "INSERT INTO cstatistic (cid, rid, time, bytes, direction, spamlevel,"
                    " virusinfo, ptime, sender) VALUES (0, nextval('cstatistic_id_seq'),"
                    " %s, %s, %s, %s, %s, %s, %s) RETURNING rid",
                    (
                        row.time,
                        row.bytes,
                        row.incoming,
                        row.spamlevel,
                        row.virus,
                        row.ptime,
                        row.sender,
                    ),
                )
                rid = cur.fetchone()[0]  # type: ignore[index]
                cur.executemany(
                    "INSERT INTO creceivers (cstatistic_cid, cstatistic_rid, receiver, blocked,"
                    " action, rule) VALUES (0, %s, %s, %s, %s, %s)",
                    [(rid, r.receiver, r.blocked, r.action, r.rule) for r in row.recipients],
                )
        inserted = 3 * baseline_rows / (time.perf_counter() - start)
        count = conn.execute("SELECT count(*) FROM creceivers").fetchone()
    assert writer.write_batch  # the writer's COPY path is what was measured
    return [
        Result("milter", "statistics rows written (COPY batches, background thread)", "rows/s",
               copied, inserted, "row-by-row INSERT",
               agreed=count == (2 * (rows + baseline_rows),),
               extra={"rows": 3 * rows, "target_rows_s": 30000}),
        Result("milter", "statistics: cost of add() on the message path", "us/row", add_us,
               higher_is_better=False),
    ]  # fmt: skip


def run(quick: bool) -> list[Result]:
    total = 1500 if quick else 10000
    postfix_total = 200 if quick else 2000
    messages = corpus_messages(400 if quick else 3000)
    root = Path(tempfile.mkdtemp(prefix="pmgfast-bench-milter-"))
    root.chmod(0o755)
    pg = PgServer.start()
    results: list[Result] = []
    try:
        name = pg.create_database()
        dsn = pg.socket_dsn(name)
        with psycopg.connect(dsn, autocommit=True) as conn:
            store.install_defaults(conn)
        for workers in (2,) if quick else (1, 2):
            results.extend(milter_interface(dsn, root, workers, messages, total, 200))
        for workers in (2,) if quick else (1, 2):
            results.append(through_postfix(dsn, root, workers, postfix_total))
        results.extend(statistics(pg.socket_dsn(pg.create_database()), 20000 if quick else 100000))
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    return results


if __name__ == "__main__":
    table = run(quick="--quick" in sys.argv)
    print(format_table(table))
    for r in table:
        if r.extra:
            print(f"{r.name}: {r.extra}")
