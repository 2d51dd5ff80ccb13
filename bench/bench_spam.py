"""Spam engine benchmarks: the whole score, the content rules, Bayes learning.

Input: the SpamAssassin corpus (``../shared/corpus/spamassassin``); quick mode takes every
eighth message. Bayes is trained on the corpus first (memory store), so the score includes a
real Bayesian verdict. Lines:

* ``score``: CPU milliseconds per message for the whole score computation (MIME walk, view,
  Bayes tokenize + lookup + combine, every content test; network tests off), measured with
  ``time.process_time`` over the set, best of three passes. Baseline: the same engine on the
  pure-Python twins (``PMGFAST_NO_EXTENSIONS=1`` in a subprocess); ``agreed`` means identical
  scores for every message. For scale: rspamd spends 6-7.5 ms, SpamAssassin about 290 ms on
  this hardware (peers.md).
* ``rules``: microseconds per message for the content tests alone (views prepared), native
  pattern sets vs the pure sets in-process; ``agreed``: identical results.
* ``learn``: messages per CPU second learned into the memory store (walk, tokenize, count),
  native vs the pure twin (subprocess).
* ``learn_pg``: learning into a real PostgreSQL (``tests/pg.py``: a private server on a Unix
  socket) the way ``pmgfast bayes learn`` does (:func:`pmgfast.spam.learn.learn_messages`:
  reader thread, batches of ``DEFAULT_BATCH``), always the whole corpus into an empty store
  (a sample of a few hundred messages measures mostly the creation of its vocabulary). Two
  lines: messages per wall second, and messages per CPU second of the whole work (this
  process, both threads, plus every PostgreSQL process: the backend, WAL writer, checkpointer,
  autovacuum, read from ``/proc``); ``extra`` splits the CPU. Skipped (no line) when
  PostgreSQL's tools are not installed.

Run: ``python -m bench.bench_spam [--quick]`` from the repository root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import Result, format_table
from pmgfast.patterns import PurePatternSet
from pmgfast.spam.bayes import BayesFilter
from pmgfast.spam.bayes_store import MemoryTokenStore
from pmgfast.spam.corpus import labelled_corpus
from pmgfast.spam.engine import SpamEngine, SpamSettings
from pmgfast.spam.evaluate import NEUTRALISED
from pmgfast.spam.ruleset import CompiledRules

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "spamassassin"
AREA = "spam"
NOW = 1035000000.0  # a fixed "now" (2002), so the figures do not depend on the date


def _messages(quick: bool) -> list[tuple[bool, bytes]]:
    samples = labelled_corpus(CORPUS)
    if quick:
        samples = samples[::8]
    return [(s.spam, s.path.read_bytes()) for s in samples]


def _trained(messages: list[tuple[bool, bytes]]) -> SpamEngine:
    store = MemoryTokenStore()
    bayes = BayesFilter(store, min_spam=10, min_ham=10)
    engine = SpamEngine(settings=SpamSettings(use_bayes=True), bayes=bayes, neutralise=NEUTRALISED)
    for spam, raw in messages:
        store.learn(bayes.token_ids(engine.view(raw)), spam)
    return engine


def _score_pass(
    engine: SpamEngine, messages: list[tuple[bool, bytes]]
) -> tuple[float, list[float]]:
    best = float("inf")
    scores: list[float] = []
    for _ in range(3):
        start = time.process_time()
        scores = [engine.check(raw, now=NOW, learn=False).score for _, raw in messages]
        best = min(best, time.process_time() - start)
    return best, scores


def _learn_pass(messages: list[tuple[bool, bytes]]) -> float:
    engine = SpamEngine(
        settings=SpamSettings(use_bayes=True), bayes=BayesFilter(MemoryTokenStore())
    )
    assert engine.bayes is not None
    best = float("inf")
    for _ in range(3):
        store = MemoryTokenStore()
        bayes = BayesFilter(store)
        start = time.process_time()
        for spam, raw in messages:
            bayes.learn(engine.view(raw), spam)
        best = min(best, time.process_time() - start)
    return best


def measure(quick: bool) -> dict[str, Any]:
    """The figures of this process's implementation (native, or pure under the env switch)."""
    messages = _messages(quick)
    engine = _trained(messages)
    seconds, scores = _score_pass(engine, messages)
    learn = _learn_pass(messages)
    return {"n": len(messages), "score_s": seconds, "scores": scores, "learn_s": learn}


def _pure(quick: bool) -> dict[str, Any] | None:
    env = {**os.environ, "PMGFAST_NO_EXTENSIONS": "1"}
    args = [sys.executable, "-m", "bench.bench_spam", "--measure"] + (["--quick"] if quick else [])
    out = subprocess.run(
        args,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-2000:])
        return None
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def _rules(quick: bool) -> Result:
    messages = _messages(quick)
    engine = SpamEngine(run_all=True, neutralise=NEUTRALISED)
    views = [engine.view(raw, now=NOW) for _, raw in messages]
    native: CompiledRules = engine.rules
    pure = CompiledRules.build(engine.rulefile, run_all=True)
    for aset in [*pure._areas.values(), *pure._headers.values()]:
        aset.patterns = PurePatternSet(aset.patterns.patterns)

    def timed(rules: CompiledRules) -> tuple[float, list[dict[str, float]]]:
        best = float("inf")
        out: list[dict[str, float]] = []
        for _ in range(3):
            fresh = [engine.view(v.raw, now=NOW) for v in views]  # cold caches every pass
            start = time.process_time()
            out = [rules.run(v) for v in fresh]
            best = min(best, time.process_time() - start)
        return best, out

    t_native, r_native = timed(native)
    t_pure, r_pure = timed(pure)
    n = len(views)
    return Result(
        AREA,
        "rules (content tests only)",
        "us/msg",
        t_native / n * 1e6,
        t_pure / n * 1e6,
        "pure pattern sets",
        r_native == r_pure,
        higher_is_better=False,
        extra={"messages": n, "tests": len(native.rules)},
    )


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of a process (and of its reaped children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _server_cpu(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its reaped children and the live
    ones (backends, WAL writer, checkpointer, autovacuum)."""
    total = _cpu_seconds(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return total


def _learn_pg() -> list[Result]:
    try:
        from tests.pg import PgServer
    except ImportError:
        return []
    import psycopg

    from pmgfast.spam.bayes_store import PgTokenStore
    from pmgfast.spam.learn import DEFAULT_BATCH, learn_messages

    try:
        server = PgServer.start()
    except Exception as err:
        sys.stderr.write(f"bench_spam: no PostgreSQL ({err}); learn_pg skipped\n")
        return []
    try:
        name = server.create_database()
        messages = _messages(False)
        postmaster = int((server.server.data_dir / "postmaster.pid").read_text().split()[0])
        conn = psycopg.connect(server.socket_dsn(name), autocommit=True)
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        backend = int(row[0])
        store = PgTokenStore(lambda: conn)
        bayes = BayesFilter(store)
        engine = SpamEngine(settings=SpamSettings(use_bayes=True), bayes=bayes)
        server_cpu = _server_cpu(postmaster)
        backend_cpu = _cpu_seconds(backend)
        cpu = time.process_time()
        wall = time.perf_counter()
        summary = learn_messages(engine, bayes, [(raw, spam) for spam, raw in messages])
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        backend_cpu = _cpu_seconds(backend) - backend_cpu
        server_cpu = _server_cpu(postmaster) - server_cpu
        tokens = store.token_count()
        conn.close()
    finally:
        server.stop()
    n = len(messages)
    extra = {
        "messages": n,
        "learned": summary.counts["learned"],
        "tokens": tokens,
        "batch": DEFAULT_BATCH,
        "wall_s": round(wall, 3),
        "learner_cpu_s": round(cpu, 3),
        "backend_cpu_s": round(backend_cpu, 3),
        "server_cpu_s": round(server_cpu, 3),
        "learner_msg_per_cpu_s": round(n / cpu),
        "backend_msg_per_cpu_s": round(n / backend_cpu) if backend_cpu else None,
    }
    return [
        Result(AREA, "learn into PostgreSQL", "msg/s", n / wall, extra=extra),
        Result(
            AREA,
            "learn into PostgreSQL, learner + server CPU",
            "msg/s/core",
            n / (cpu + server_cpu),
            extra=extra,
        ),
    ]


def run(quick: bool) -> list[Result]:
    mine = measure(quick)
    pure = _pure(quick)
    n = mine["n"]
    results = [
        Result(
            AREA,
            "score (whole engine, no network)",
            "ms CPU/msg",
            mine["score_s"] / n * 1000,
            None if pure is None else pure["score_s"] / n * 1000,
            "pure twins",
            None if pure is None else pure["scores"] == mine["scores"],
            higher_is_better=False,
            extra={"messages": n},
        ),
        _rules(quick),
        Result(
            AREA,
            "learn (memory store)",
            "msg/s/core",
            n / mine["learn_s"],
            None if pure is None else n / pure["learn_s"],
            "pure twins",
            None,
            extra={"messages": n},
        ),
    ]
    results.extend(_learn_pg())
    return results


if __name__ == "__main__":
    if "--measure" in sys.argv:
        print(json.dumps(measure("--quick" in sys.argv)))
    else:
        print(format_table(run(quick="--quick" in sys.argv)))
