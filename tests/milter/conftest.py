"""Fixtures for the milter tests: a running pool (``pmgfast milter``) without Postfix, spoken to
with the milter-protocol client, and a database with the test rule set."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmgfast.milter.client import MilterClient, StageResult
from tests.e2e.conftest import install, rules
from tests.e2e.harness import Pool, Ports, wait_for

SEEN_SCRIPT = """#!/bin/sh
# custom check v1 for the pool tests: keeps a copy of what the filter saw, and sleeps for
# messages that ask for it (X-Sleep: <seconds>)
cp "$2" {dir}/seen/$(basename "$2")
seconds=$(sed -n 's/^X-Sleep: \\([0-9.]*\\).*/\\1/p' "$2" | head -n 1)
[ -n "$seconds" ] && sleep "$seconds"
echo v1
echo OK
"""


class PoolUnderTest:
    """``pmgfast milter`` on a loopback port, with helpers to send through the protocol."""

    def __init__(
        self, root: Path, dsn: str, extra: dict[str, dict[str, str]], socket: str | None = None
    ) -> None:
        self.root = root
        self.ports = Ports()
        (root / "seen").mkdir(parents=True, exist_ok=True)
        script = root / "seen-check"
        script.write_text(SEEN_SCRIPT.format(dir=root))
        script.chmod(0o755)
        self.log_file = root / "filter.log"
        self.pool = Pool(root, self.ports, dsn, self.log_file)
        self.pool.socket_spec = socket
        settings = {"admin": {"custom_check": "1", "custom_check_path": str(script)}}
        for section, keys in extra.items():
            settings.setdefault(section, {}).update(keys)
        self.pool.write_config("before-queue", settings)
        self.pool.start()

    @property
    def spec(self) -> str:
        return self.pool.socket

    def connect(self, daemon: str = "pmgfast-in") -> MilterClient:
        client = MilterClient.connect(self.spec)
        client.connection(
            "client.ext.example",
            "192.0.2.7",
            helo="client.ext.example",
            macros={"{daemon_name}": daemon, "{daemon_port}": "25"},
        )
        return client

    def send(
        self,
        raw: bytes,
        sender: str,
        recipients: list[str],
        qid: str = "TESTQID",
        daemon: str = "pmgfast-in",
    ) -> StageResult:
        with self.connect(daemon) as client:
            return client.message(sender, recipients, raw, macros={"i": qid})

    def seen(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted((self.root / "seen").iterdir())]

    def log(self) -> list[str]:
        return self.pool.filter_log()

    def wait_log(self, needle: str, timeout: float = 30.0) -> None:
        wait_for(lambda: any(needle in line for line in self.log()), timeout, repr(needle))

    def stop(self) -> int | None:
        code = self.pool.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        return code


def start_pool(
    pg_server, extra: dict[str, dict[str, str]] | None = None, socket: str | None = None
) -> PoolUnderTest:
    name = pg_server.create_database()
    dsn = pg_server.socket_dsn(name)
    install(dsn, rules())
    root = Path(tempfile.mkdtemp(prefix="pmgfast-pool-"))
    root.chmod(0o755)
    pool = PoolUnderTest(root, dsn, extra or {}, socket.format(root=root) if socket else None)
    pool.dsn = dsn  # type: ignore[attr-defined]
    return pool


@pytest.fixture(scope="module")
def pool(pg_server) -> Iterator[PoolUnderTest]:
    under_test = start_pool(pg_server)
    yield under_test
    under_test.stop()
