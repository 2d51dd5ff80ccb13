"""pmgperf's milter line: messages per second through the real milter protocol.

:func:`milter_messages` starts a short-lived milter pool (the production prefork pool and
callbacks, one worker) on a Unix socket in a temporary directory, then talks to it as Postfix
would, with the MTA side of the protocol (:class:`~pmgfast.milter.client.MilterClient`): one
connection, the built-in sample sent again and again for the probe time, each message waiting
for its verdict. The pool is stopped (its process group killed) and the directory removed at the
end, so the probe costs about a second of start-up beside the probe time.

The worker's pipeline is the real one under the conditions of ``pmgfast scan
--factory-rules``, so no database or daemon is needed: PMG's factory rules, dry-run effects
(nothing is re-injected or quarantined), no statistics, Bayes, AWL or user lists; the spam engine
scores with its local tests (``pmgfast.spam_network_tests`` off); ClamAV and the custom check
are off (they need clamd and a script of their own).

    python -m pmgfast.perf_milter unix:/DIR/milter.sock DIR     # the pool (pmgperf starts it)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from pmgfast.perf import Line

if TYPE_CHECKING:
    from pmgfast.milter.client import MilterClient
    from pmgfast.milter.pool import Worker

SENDER = "billing@example.com"
RECIPIENTS = ["user@example.org"]
CONNECT_MACROS = {"{daemon_name}": "pmgfast-in", "{daemon_port}": "25"}  # incoming mail
START_TIMEOUT = 60.0
LABEL = "MILTER MSG/S"
POOL = [sys.executable, "-m", "pmgfast.perf_milter"]  # + SPEC DIR


class _Sink:
    """The worker's filter log: error lines go to stderr (pmgperf shows them), the rest nowhere."""

    def write(self, line: str, error: bool = False) -> None:
        if error:
            print(line, file=sys.stderr, flush=True)


def _start_worker(directory: Path) -> Callable[[Worker], Callable[[], None]]:
    """The pool's ``start_worker``: the pipeline without a database, wired to the callbacks."""

    def start(worker: Worker) -> Callable[[], None]:
        from pmgfast import pipeline
        from pmgfast.actions.effects import DryRun
        from pmgfast.config import Settings
        from pmgfast.config.pmgconf import parse
        from pmgfast.milter.callbacks import Runtime, Session
        from pmgfast.milter.context import Direction
        from pmgfast.rules import Generations, HostInfo, factory
        from pmgfast.scan.configured import configured_scanners

        conf = parse("", directory / "pmg.conf")  # every key at its default, then:
        conf.set("admin", "clamav", "0")
        conf.set("pmgfast", "spam_network_tests", "0")
        settings = Settings(directory, conf)
        psettings = pipeline.Settings.from_config(conf, directory, HostInfo())
        pipe = pipeline.Pipeline(
            psettings,
            Generations(factory()),
            configured_scanners(settings, fail_open=False, connect=None),
            DryRun(),
            _Sink(),
        )
        runtime = Runtime(
            pipe,
            Direction(),
            spill_size=int(conf.get("pmgfast", "milter_spill_size") or 0),
            maxsize=psettings.maxsize,
            spill_dir=directory,
        )
        Session.runtime = runtime
        worker.messages = lambda: runtime.messages
        worker.sessions = lambda: runtime.sessions
        return lambda: None

    return start


def serve(spec: str, directory: Path) -> int:
    """Run the one-worker pool on ``spec`` until killed."""
    from pmgfast.milter.callbacks import Session
    from pmgfast.milter.pool import Pool, PoolSpec

    pool_spec = PoolSpec(socket=spec, workers=1, max_messages=10**9, max_growth_mib=1e6)
    return Pool(pool_spec, Session, _start_worker(directory)).run()


def _connect(spec: str, process: subprocess.Popen[bytes], timeout: float) -> MilterClient | None:
    """A negotiated connection to the pool once it listens (None: the pool exited)."""
    from pmgfast.milter.client import MilterClient

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            return None
        try:
            return MilterClient.connect(spec, timeout=timeout)
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the milter pool did not listen within {timeout:g} s") from None
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the pool's process group: master and worker (nothing of theirs needs keeping)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def milter_messages(seconds: float, raw: bytes) -> Line:
    """Messages filtered per second through the milter protocol, one worker."""
    from pmgfast import native
    from pmgfast.milter.client import MilterProtocolError

    with tempfile.TemporaryDirectory(prefix="pmgperf-milter-") as tmp:
        spec = f"unix:{tmp}/milter.sock"
        errors = Path(tmp, "errors.log")  # a file, not a pipe: a chatty worker never blocks
        with errors.open("wb") as stderr:
            process = subprocess.Popen(
                [*POOL, spec, tmp],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # its own process group, so _stop ends the worker too
            )
        verdicts: Counter[str] = Counter()
        failure = ""
        rate = 0.0
        try:
            client = _connect(spec, process, START_TIMEOUT)
            if client is None:
                failure = "the milter pool exited"
            else:
                with client:
                    client.connection("client.ext.example", "192.0.2.7", macros=CONNECT_MACROS)
                    rate = _drive(client, raw, seconds, verdicts)
        except (OSError, MilterProtocolError) as err:
            failure = f"{type(err).__name__}: {err}"
        finally:
            _stop(process)
        if not failure and set(verdicts) - {"accept", "discard", "reject"}:
            failure = f"verdicts {dict(verdicts)}"
        if failure:
            lines = errors.read_text("utf-8", "replace").strip().splitlines()
            detail = "; ".join(x for x in (failure, lines[-1] if lines else "") if x)
            return Line(LABEL, "failed", detail)
    kind = "native" if native.rust() is not None else "pure"
    return Line(LABEL, f"{rate:.0f}", f"{kind}, 1 worker, factory rules, local spam tests")


def _drive(client: MilterClient, raw: bytes, seconds: float, verdicts: Counter[str]) -> float:
    """Send the sample one message after the other for ``seconds`` (after two unmeasured ones
    that warm the worker up); messages per second."""
    data = client.prepare(SENDER, RECIPIENTS, raw)
    if data is None:  # the milter wants to answer before end of message: the long way
        send = lambda: client.message(SENDER, RECIPIENTS, raw)  # noqa: E731
    else:
        send = lambda: client.send_prepared(data)  # noqa: E731
    for _ in range(2):
        verdicts[send().action] += 1
    done = 0
    start = time.perf_counter()
    while True:
        verdicts[send().action] += 1
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], Path(sys.argv[2])))
