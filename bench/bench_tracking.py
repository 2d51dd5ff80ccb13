"""Benchmark of the tracking center: searching a week of mail logs, with and without the index.

Data: ``bench/loggen.py`` logs (Postfix + pmgfast milter), rotated like logrotate with
``delaycompress``: ``syslog`` and ``syslog.1`` plain, older days gzipped. The full run writes 7
days at 1,000,000 mails a day (about 10 GB) under ``--dir`` (or ``PMGFAST_BENCH_DIR``, default
``/tmp``) and removes it afterwards; ``--quick`` uses 3 days at 20,000 mails a day (~90 MB).

- **scan**: a sender, a recipient and a text query over the whole range without the index, in
  MB/s of log (and seconds); baseline: ``grep -c`` (``zgrep -c`` for ``.gz``) over the same
  files. **scan, plain, per core**: the same queries over the plain files only, in MB of log
  per CPU second (target: 1 GB/s per core).
- **twin**: the pure-Python twin on one plain day (the full run takes a slice), MB/s, against
  the Rust core on the same bytes; both answers must agree.
- **index**: build rate and cost (seconds, MB/s, index size as a share of the logs), then
  7-day sender, recipient and text queries and one-hour queries, p95 over 20 different needles
  each (target: 1 s for 7 days, 0.2 s for one hour); every indexed answer is checked against the
  scan's on the first needle.

Run: ``python -m bench.bench_tracking [--quick] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TypeVar

from bench import loggen
from bench.harness import Result, format_table
from pmgfast import native
from pmgfast.tracking import Query, index_info, search, update_index

AREA = "tracking"
T = TypeVar("T")
START = 1710115200  # 2024-03-11 00:00 UTC, loggen's first day


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds of this process) of one call."""
    c0 = cpu()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, cpu() - c0


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(0.95 * len(s)) - 1))]


def needles(path: Path, rng: random.Random) -> dict[str, list[str]]:
    """Senders, recipients and texts (Message-ID parts) that occur in the log at ``path``."""
    with open(path, "rb") as fh:
        head = fh.read(8 << 20).decode("utf-8", "replace")
    senders = sorted(set(re.findall(r"qmgr\[\d+\]: \w+: from=<([^>]+)>", head)))
    rcpts = sorted(set(re.findall(r"accept mail to <([^>]+)>", head)))
    texts = sorted(set(re.findall(r"message-id=<([0-9a-f]{16})\.", head)))
    return {
        "sender": rng.sample(senders, 20),
        "recipient": rng.sample(rcpts, 20),
        "text": rng.sample(texts, 20),
    }


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def grep_rate(files: list[Path], needle: str, per_cpu: bool = False) -> float:
    """MB/s (or MB per CPU second) of ``grep -c -F`` (``zgrep`` for gzip) over ``files``."""
    total = sum(f.stat().st_size if f.suffix != ".gz" else uncompressed(f) for f in files)
    t0, c0 = time.perf_counter(), children_cpu()
    for f in files:
        tool = "zgrep" if f.suffix == ".gz" else "grep"
        subprocess.run([tool, "-c", "-F", needle, str(f)], capture_output=True, check=False)
    spent = children_cpu() - c0 if per_cpu else time.perf_counter() - t0
    return total / 1e6 / max(spent, 1e-6)


_SIZES: dict[Path, int] = {}


def uncompressed(f: Path) -> int:
    if f not in _SIZES:
        out = subprocess.run(f"zcat {f} | wc -c", shell=True, capture_output=True, check=True)
        _SIZES[f] = int(out.stdout)
    return _SIZES[f]


def run(quick: bool, workdir: Path | None = None) -> list[Result]:
    if native.rust() is None:
        return []  # pure mode: nothing native to measure (the twin is timed against the core)
    root = Path(workdir or os.environ.get("PMGFAST_BENCH_DIR") or tempfile.gettempdir())
    data = Path(tempfile.mkdtemp(prefix="pmgfast-bench-tracking-", dir=root))
    try:
        return _run(quick, data)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _run(quick: bool, data: Path) -> list[Result]:
    days, per_day = (3, 20_000) if quick else (7, 1_000_000)
    logs = data / "logs"
    t0 = time.perf_counter()
    files = loggen.generate(logs, mails_per_day=per_day, days=days, seed=11)
    gen_seconds = time.perf_counter() - t0
    base = logs / "syslog"
    plain = [f for f in files if f.suffix != ".gz"]
    log_bytes = sum(uncompressed(f) if f.suffix == ".gz" else f.stat().st_size for f in files)
    disk_bytes = sum(f.stat().st_size for f in files)
    now = START + days * 86400 + 3600
    week = (START, START + days * 86400)
    rng = random.Random(5)
    ns = needles(files[-1], rng)
    results: list[Result] = []
    extra_data = {
        "days": days,
        "mails_per_day": per_day,
        "log_mb": round(log_bytes / 1e6, 1),
        "on_disk_mb": round(disk_bytes / 1e6, 1),
        "gzip_files": sum(f.suffix == ".gz" for f in files),
        "generated_in_s": round(gen_seconds, 1),
    }

    def q(kind: str, needle: str, start: int, end: int, **kw: object) -> Query:
        return Query(start=start, end=end, now=now, tz="UTC", **{kind: needle}, **kw)  # type: ignore[arg-type]

    # --- scans without the index ------------------------------------------------------------
    scanned: dict[str, tuple] = {}
    for kind in ("sender", "recipient", "text"):
        needle = ns[kind][0]
        r, wall, _ = timed(lambda: search(q(kind, needle, *week), series=base))  # noqa: B023
        # the reference: every line correlated (the sparse scan must give the same mails)
        full = search(replace(q(kind, needle, *week), full_scan=True), series=base)
        scanned[kind] = full.mails
        results.append(
            Result(AREA, f"scan {days}d {kind} query", "MB/s", log_bytes / 1e6 / wall,
                   grep_rate(files, needle), "grep -c / zgrep -c", r.mails == full.mails,
                   extra={"seconds": round(wall, 3), "mails": len(r.mails), **extra_data})
        )  # fmt: skip
        plain_bytes = sum(f.stat().st_size for f in plain)
        _r2, wall2, cpu2 = timed(lambda: search(q(kind, needle, *week), files=plain))  # noqa: B023
        results.append(
            Result(AREA, f"scan plain {kind} query, per core", "MB/cpu-s",
                   plain_bytes / 1e6 / max(cpu2, 1e-6), grep_rate(plain, needle, True), "grep -c",
                   extra={"seconds": round(wall2, 3), "cpu_seconds": round(cpu2, 3),
                          "mb": round(plain_bytes / 1e6, 1)})
        )  # fmt: skip
    # the full correlation (no sparse scan), as the worst case of an unindexed query
    r, wall, cpu_s = timed(
        lambda: search(replace(q("sender", ns["sender"][0], *week), full_scan=True), files=plain)
    )
    plain_mb = sum(f.stat().st_size for f in plain) / 1e6
    results.append(
        Result(AREA, "scan plain, full correlation, per core", "MB/cpu-s",
               plain_mb / max(cpu_s, 1e-6),
               extra={"seconds": round(wall, 3), "cpu_seconds": round(cpu_s, 3),
                      "wall_mb_s": round(plain_mb / wall, 1), "mb": round(plain_mb, 1)})
    )  # fmt: skip

    # --- the pure twin ------------------------------------------------------------------------
    slice_bytes = plain[-1].read_bytes() if quick else plain[-1].read_bytes()[: 60 << 20]
    slice_bytes = slice_bytes[: slice_bytes.rfind(b"\n") + 1]
    tq = Query(
        start=0, end=1 << 40, now=now, tz="UTC", sender=ns["sender"][0], include_rejected=True
    )
    pure, pwall, _ = timed(lambda: search(tq, data=slice_bytes, pure=True))
    nat, nwall, _ = timed(lambda: search(replace(tq, full_scan=True), data=slice_bytes))
    results.append(
        Result(AREA, "correlate one slice (full)", "MB/s", len(slice_bytes) / 1e6 / nwall,
               len(slice_bytes) / 1e6 / pwall, "pure-Python twin", nat.mails == pure.mails,
               extra={"mb": round(len(slice_bytes) / 1e6, 1)})
    )  # fmt: skip

    # --- the index ----------------------------------------------------------------------------
    index = data / "index"
    _up, wall, cpu_s = timed(lambda: update_index(index, base, now=now, tz="UTC"))
    info = index_info(index)
    results.append(
        Result(AREA, f"index build ({days}d)", "MB/s", log_bytes / 1e6 / wall,
               extra={"seconds": round(wall, 1), "cpu_seconds": round(cpu_s, 1),
                      "index_mb": round(info.bytes / 1e6, 1),
                      "index_share_of_log": round(info.bytes / log_bytes, 4),
                      "entries": info.entries, "segments": info.segments})
    )  # fmt: skip
    # an incremental update with nothing new: the steady-state cost of running it often
    _, wall_noop, _ = timed(lambda: update_index(index, base, now=now, tz="UTC"))
    results.append(
        Result(AREA, "index update, nothing new", "ms", 1000 * wall_noop, higher_is_better=False)
    )
    for kind in ("sender", "recipient", "text"):
        times = []
        slowest = (0.0, 0)
        agreed = True
        for i, needle in enumerate(ns[kind]):
            r, wall, _ = timed(lambda: search(q(kind, needle, *week), index=index, series=base))  # noqa: B023
            times.append(wall)
            slowest = max(slowest, (wall, len(r.mails)))
            if i == 0:
                agreed = r.mails == scanned[kind]
        results.append(
            Result(AREA, f"index {days}d {kind} query p95", "ms", 1000 * p95(times), None, "",
                   agreed, higher_is_better=False,
                   extra={"median_ms": round(1000 * sorted(times)[len(times) // 2], 1),
                          "max_ms": round(1000 * max(times), 1), "max_mails": slowest[1],
                          "queries": len(times)})
        )  # fmt: skip
    hour_times = []
    hour_cpu = []
    hour_rows = 0
    for i in range(20):
        h0 = START + (days - 1) * 86400 + i * 3600
        hq = Query(start=h0, end=h0 + 3600, now=now, tz="UTC")
        # the answer is complete when search returns: every Mail and Recipient record built
        r, wall, cpu_s = timed(partial(search, hq, index=index, series=base))
        hour_times.append(wall)
        hour_cpu.append(cpu_s)
        hour_rows = max(hour_rows, sum(len(m.recipients) for m in r.mails))
        del r
    results.append(
        Result(AREA, "index one-hour query (all mails) p95", "ms", 1000 * p95(hour_times),
               higher_is_better=False,
               extra={"max_rows": hour_rows, "cpu_p95_ms": round(1000 * p95(hour_cpu), 1),
                      "median_ms": round(1000 * sorted(hour_times)[10], 1)})
    )  # fmt: skip
    hour_times = []
    for i in range(20):
        h0 = START + (days - 1) * 86400 + i * 3600
        lq = Query(start=h0, end=h0 + 3600, now=now, tz="UTC", limit=2000)
        _, wall, _ = timed(partial(search, lq, index=index, series=base))
        hour_times.append(wall)
    results.append(
        Result(
            AREA,
            "index one-hour query, GUI limit 2000 rows, p95",
            "ms",
            1000 * p95(hour_times),
            higher_is_better=False,
        )
    )
    hour_times = []
    for i in range(20):
        h0 = START + (days - 1) * 86400 + i * 3600
        rq = q("recipient", ns["recipient"][i], h0, h0 + 3600)
        _, wall, _ = timed(partial(search, rq, index=index, series=base))
        hour_times.append(wall)
    results.append(
        Result(
            AREA,
            "index one-hour recipient query p95",
            "ms",
            1000 * p95(hour_times),
            higher_is_better=False,
        )
    )
    return results


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.bench_tracking")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--dir", type=Path, help="where to write the generated logs (default /tmp)")
    a = p.parse_args()
    res = run(quick=a.quick, workdir=a.dir)
    print(format_table(res))
    for r in res:
        if r.extra:
            print(f"  {r.name}: {r.extra}")


if __name__ == "__main__":
    if "--quick" in sys.argv and len(sys.argv) == 2:
        print(format_table(run(quick=True)))
    else:
        main()
