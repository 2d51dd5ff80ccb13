"""Benchmark of the clamd client: scan latency per message and throughput, pooled vs not.

A private clamd (``tests/clamd.py``: Debian's clamav-daemon with the test-built signature
database, configured by pmgfast's own clamd.conf template) scans a mixed set: SpamAssassin
corpus messages (ham and spam) plus the EICAR test mails. Measured, each against the same
thing done with a connection per message (plain ``INSTREAM``, what ``clamdscan --stream``
does) in the same run:

- latency per message (p50 and p99, one message at a time, Unix socket);
- throughput, one thread and four threads (a worker's libmilter threads share one client);
- the same over TCP on 127.0.0.1.

``agreed`` says both ways gave every message the same verdict. clamd's start-up time (the
signature load, tiny here) is reported apart from scan time, as ClamAV's developers advise.
A real signature database (~8 M signatures) makes clamd's own scan time dominate; what this
measures is the client's cost around it.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import Result, format_table
from pmgfast.clamav import ClamdAddress, ClamdClient, Verdict

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "spamassassin"


def _messages(count: int) -> list[bytes]:
    from tests.clamav import mails

    files = sorted((CORPUS / "ham").iterdir())[: count * 2 // 3]
    files += sorted((CORPUS / "spam").iterdir())[: count - len(files)]
    messages = [path.read_bytes() for path in files]
    viruses = [mails.eicar_attachment(), mails.eicar_in_zip(), mails.eicar_in_zip_in_zip()]
    for index in range(0, len(messages), 25):  # one in 25 carries EICAR
        messages[index] = viruses[index // 25 % len(viruses)]
    return messages


def _interleaved(
    first: ClamdClient, second: ClamdClient, messages: list[bytes]
) -> tuple[list[Verdict], list[float], list[Verdict], list[float]]:
    """Scan every message with both clients in turn (so both see the same machine load)."""
    verdicts_a: list[Verdict] = []
    verdicts_b: list[Verdict] = []
    lat_a: list[float] = []
    lat_b: list[float] = []
    for raw in messages:
        for client, verdicts, latencies in (
            (first, verdicts_a, lat_a),
            (second, verdicts_b, lat_b),
        ):
            start = time.perf_counter()
            result = client.scan(raw, timeout=30)
            latencies.append(time.perf_counter() - start)
            verdicts.append(result.verdict)
    return verdicts_a, lat_a, verdicts_b, lat_b


def _throughput(make: Callable[[], ClamdClient], messages: list[bytes], threads: int) -> float:
    client = make()
    client.scan(messages[0])  # warm: a pooled client has its connection
    errors: list[int] = []

    def work(offset: int) -> None:
        for raw in messages[offset::threads]:
            if client.scan(raw, timeout=30).is_error:
                errors.append(1)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    client.close()
    if errors:
        raise RuntimeError(f"{len(errors)} scans failed during the throughput run")
    return len(messages) / elapsed


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(quick: bool) -> list[Result]:
    from tests.clamd import ClamdServer

    count = 150 if quick else 1000
    rounds = 1 if quick else 3
    messages = _messages(count)
    mean_kib = statistics.mean(len(m) for m in messages) / 1024
    started = time.perf_counter()
    server = ClamdServer.start_new()
    load_s = time.perf_counter() - started
    results: list[Result] = []
    try:
        unix = server.unix_address
        tcp = server.tcp_address

        def pooled(address: ClamdAddress = unix) -> ClamdClient:
            return ClamdClient(address, stream_max_length=server_limit, pool_size=8, pooled=True)

        def single(address: ClamdAddress = unix) -> ClamdClient:
            return ClamdClient(address, stream_max_length=server_limit, pooled=False)

        server_limit = server.client().stream_max_length
        # latency, serial, Unix socket
        pool_client, plain_client = pooled(), single()
        pool_client.scan(messages[0])
        pool_lat: list[float] = []
        plain_lat: list[float] = []
        pool_verdicts: list[Verdict] = []
        plain_verdicts: list[Verdict] = []
        for _ in range(rounds):
            pool_verdicts, lat_a, plain_verdicts, lat_b = _interleaved(
                pool_client, plain_client, messages
            )
            pool_lat += lat_a
            plain_lat += lat_b
        agreed = pool_verdicts == plain_verdicts and Verdict.ERROR not in pool_verdicts
        viruses = sum(v is Verdict.VIRUS for v in pool_verdicts)
        extra = {
            "messages": len(messages),
            "mean_kib": round(mean_kib, 1),
            "viruses": viruses,
            "clamd_start_s": round(load_s, 3),
            "connects_pooled": pool_client.stats.connects,
            "connects_plain": plain_client.stats.connects,
        }
        pool_client.close()
        for name, q in (("latency p50 (unix)", 0.5), ("latency p99 (unix)", 0.99)):
            results.append(
                Result(
                    "clamav",
                    name,
                    "us/msg",
                    _pct(pool_lat, q) * 1e6,
                    baseline=_pct(plain_lat, q) * 1e6,
                    baseline_name="connect per message",
                    agreed=agreed,
                    higher_is_better=False,
                    extra=extra,
                )
            )
        runs = [
            ("throughput, 1 thread (unix)", unix, 1),
            ("throughput, 4 threads (unix)", unix, 4),
            ("throughput, 1 thread (tcp 127.0.0.1)", tcp, 1),
        ]
        for name, address, threads in runs:
            pool_rates, plain_rates = [], []
            for _ in range(rounds + 2):  # alternate, keep the best of each
                pool_rates.append(_throughput(lambda a=address: pooled(a), messages, threads))
                plain_rates.append(_throughput(lambda a=address: single(a), messages, threads))
            results.append(
                Result(
                    "clamav",
                    name,
                    "msg/s",
                    max(pool_rates),
                    baseline=max(plain_rates),
                    baseline_name="connect per message",
                    agreed=agreed,
                    extra={"messages": len(messages), "mean_kib": round(mean_kib, 1)},
                )
            )
        # a large message: chunked streaming, MB/s (limit raised to fit it)
        big = _large_message(4 * 1024 * 1024)
        big_server = ClamdServer.start_new(("mail maxsize 8388608",), tcp=False)
        try:
            streamed = big_server.client(chunk_size=64 * 1024)
            whole = big_server.client(chunk_size=len(big))
            verdicts = {streamed.scan(big).verdict, whole.scan(big).verdict}
            reps = 2 if quick else 5
            chunked = min(_timed(lambda: streamed.scan(big)) for _ in range(reps))
            single_frame = min(_timed(lambda: whole.scan(big)) for _ in range(reps))
        finally:
            big_server.destroy()
        mib = len(big) / 2**20
        results.append(
            Result(
                "clamav",
                "4 MiB message, 64 KiB chunks (unix)",
                "MB/s",
                mib / chunked,
                baseline=mib / single_frame,
                baseline_name="one frame",
                agreed=verdicts == {Verdict.CLEAN},
                extra={"bytes": len(big)},
            )
        )
    finally:
        server.destroy()
    return results


def _large_message(size: int) -> bytes:
    import base64
    import random

    payload = random.Random(8).randbytes(size * 3 // 4)
    body = base64.encodebytes(payload)
    head = (
        b"From: a@example.org\r\nTo: b@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/octet-stream; name=data.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head + body


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    print(format_table(run(quick="--quick" in sys.argv)))
