"""A milter-protocol load generator: what many Postfix smtpd processes say to a milter, without
Postfix.

``connections`` threads each hold a milter connection (one "SMTP session" of
``per_session`` messages, then a new connection, as Postfix opens one per session) and send
messages round-robin from the given list. Each message is encoded once (all stages up to end of
message in one write, possible because the milter answers only at end of message) and replayed,
so the generator costs little CPU per message. Latency is end of message to verdict.

    python -m bench.miltergen inet:10026@127.0.0.1 FILE... [--total N] [--connections C]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pmgfast.milter.client import MilterClient

MACROS_CONNECT = {"{daemon_name}": "pmgfast-in", "{daemon_port}": "25"}


@dataclass
class LoadResult:
    messages: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds
    actions: Counter[str] = field(default_factory=Counter)
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0


def drive(
    spec: str,
    messages: list[bytes],
    total: int,
    connections: int = 8,
    per_session: int = 20,
    sender: str = "sender@ext.example",
    recipients: tuple[str, ...] = ("user@local.example",),
) -> LoadResult:
    """Send ``total`` messages over ``connections`` parallel connections; the figures."""
    counter = iter(range(total))
    lock = threading.Lock()
    result = LoadResult(0, 0.0)
    encoded: dict[int, bytes] = {}

    def take() -> int | None:
        with lock:
            return next(counter, None)

    def worker() -> None:
        while True:
            n = take()
            if n is None:
                return
            try:
                with MilterClient.connect(spec) as client:
                    client.connection(
                        "client.ext.example",
                        "192.0.2.7",
                        helo="client.ext.example",
                        macros=MACROS_CONNECT,
                    )
                    done = 0
                    while n is not None:
                        index = n % len(messages)
                        data = encoded.get(index)
                        if data is None:
                            data = client.prepare(
                                sender,
                                list(recipients),
                                messages[index],
                                macros={"i": f"Q{n:X}"},
                            )
                            assert data is not None, "the milter answers before end of message"
                            encoded[index] = data
                        start = time.perf_counter()
                        answer = client.send_prepared(data)
                        elapsed = time.perf_counter() - start
                        with lock:
                            result.messages += 1
                            result.latencies.append(elapsed)
                            result.actions[answer.action] += 1
                        done += 1
                        if done >= per_session:
                            break
                        n = take()
            except OSError:
                with lock:
                    result.errors += 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("socket")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--total", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    messages = [f.read_bytes() for f in args.files]
    r = drive(args.socket, messages, args.total, args.connections)
    print(
        f"{r.messages} messages in {r.seconds:.2f} s: {r.rate:.0f} msg/s, "
        f"p50 {r.p50 * 1000:.1f} ms, p99 {r.percentile(99) * 1000:.1f} ms, "
        f"actions {dict(r.actions)}, errors {r.errors}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
