"""The pmgfast command as a person uses it: real processes, real PostgreSQL, plain errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from pmgfast.config.schema import KEYS
from pmgfast.db.migrate import migrations

LATEST = migrations()[-1].version

BIN = Path(sys.executable).parent


def pmgfast(
    state: Path, *args: str, tool: str = "pmgfast", env: dict | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    cmd = [str(BIN / tool), *args]
    result = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PMGFAST_STATE_DIR": str(state), **(env or {})},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def state():
    """A state directory the unprivileged PostgreSQL user can reach."""
    path = Path(tempfile.mkdtemp(prefix="pmgfast-cli-"))
    os.chmod(path, 0o755)
    yield path
    subprocess.run(
        [str(BIN / "pmgfast"), "stop"],
        env={**os.environ, "PMGFAST_STATE_DIR": str(path)},
        capture_output=True,
        timeout=120,
    )
    subprocess.run(["rm", "-rf", str(path)], check=True)


def postgres_processes(data_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(data_dir) in line and "ps -eo" not in line]


def test_config_dump_lists_every_key_with_its_default(state):
    out = pmgfast(state, "config", "dump", check=True).stdout.splitlines()
    assert len(out) == len(KEYS)
    assert "mail.maxsize = 10485760" in out
    assert "mail.greylist = 1" in out
    assert "spamquar.authmode = ticket" in out
    assert "mail.relay = " in out


def test_config_set_refuses_out_of_range_and_get_reads_back(state):
    bad = pmgfast(state, "config", "set", "mail", "maxsize", "12")
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        f"pmgfast: error: {state}/etc/pmg.conf: mail.maxsize: 12 is out of range "
        "(allowed: 1024 - N)"
    )
    assert not (state / "etc" / "pmg.conf").exists()
    pmgfast(state, "config", "set", "mail", "maxsize", "20971520", check=True)
    assert pmgfast(state, "config", "get", "mail", "maxsize", check=True).stdout == "20971520\n"
    assert (
        pmgfast(state, "config", "dump", "--changed", check=True).stdout
        == "mail.maxsize = 20971520\n"
    )
    pmgfast(state, "config", "unset", "mail", "maxsize", check=True)
    assert pmgfast(state, "config", "get", "mail", "maxsize", check=True).stdout == "10485760\n"


def test_hand_broken_pmg_conf_gives_one_line_with_line_number(state):
    conf = state / "etc" / "pmg.conf"
    conf.parent.mkdir()
    conf.write_text("section: mail\n\tmaxsize 2048\n\tgreylist maybe\n")
    result = pmgfast(state, "config", "check")
    assert result.returncode == 1
    assert result.stderr == (
        f"pmgfast: error: {conf}:3: mail.greylist: 'maybe' is not a boolean (allowed: 0 | 1)\n"
    )
    assert "Traceback" not in result.stderr


def test_pmgconfig_alias(state):
    result = pmgfast(state, "dump", tool="pmgconfig", check=True)
    assert "mail.ext_port = 25" in result.stdout


def test_config_docs_match_the_committed_reference(state):
    docs = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    assert pmgfast(state, "config", "docs", check=True).stdout == docs.read_text(), (
        "docs/config.md is stale: regenerate with 'pmgfast config docs > docs/config.md'"
    )


def test_db_lifecycle_on_the_embedded_server(state):
    status = pmgfast(state, "db", "status")
    assert status.returncode == 1
    assert "not initialised" in status.stdout
    init = pmgfast(state, "db", "init", check=True)
    assert "applied migration 0001 initial" in init.stdout
    status = pmgfast(state, "db", "status", check=True)
    assert "(embedded)" in status.stdout
    assert f"schema version: {LATEST} of {LATEST}" in status.stdout
    upgrade = pmgfast(state, "db", "upgrade", check=True).stdout
    assert upgrade.startswith(f"schema version {LATEST} (up to date)")
    assert pmgfast(state, "db", "reset").returncode == 2
    reset = pmgfast(state, "db", "reset", "--yes", check=True).stdout
    assert f"schema version {LATEST}" in reset
    status = pmgfast(state, "status", tool="pmgdb", check=True)
    assert f"schema version: {LATEST} of {LATEST}" in status.stdout
    # one-shot commands leave no server behind
    assert postgres_processes(state / "pg" / "data") == []


def test_db_status_on_an_external_dsn(state, pg_server):
    name = pg_server.create_database(migrated=False)
    try:
        dsn = pg_server.tcp_dsn(name)
        pmgfast(state, "config", "set", "pmgfast", "dsn", dsn, check=True)
        assert "applied migration 0001" in pmgfast(state, "db", "init", check=True).stdout
        status = pmgfast(state, "db", "status", check=True).stdout
        assert f"schema version: {LATEST} of {LATEST}" in status
        assert "host=127.0.0.1" in status and "(embedded)" not in status
        assert "test-secret-pw" not in status  # secrets are never printed
        assert not (state / "pg").exists()
    finally:
        pg_server.drop_database(name)


def test_unreachable_database_is_a_plain_error(state):
    pmgfast(
        state,
        "config",
        "set",
        "pmgfast",
        "dsn",
        "postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2",
        check=True,
    )
    result = pmgfast(state, "db", "status")
    assert result.returncode == 1
    assert result.stderr.startswith("pmgfast: error: cannot connect to PostgreSQL (")
    assert "host=127.0.0.1" in result.stderr and "port=1" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def start_gateway(state: Path) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [str(BIN / "pmgfast"), "start"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PMGFAST_STATE_DIR": str(state)},
    )
    lines: list[str] = []
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        assert line, f"pmgfast start ended early: {lines}"
        lines.append(line.rstrip("\n"))
        if line.startswith("pmgfast is running"):
            return proc, lines


@pytest.mark.parametrize("how", ["ctrl-c", "pmgfast stop"])
def test_start_runs_the_embedded_database_and_stops_clean(state, how):
    clamd_conf = state / "clamd.conf"
    clamd_conf.write_text(f"LocalSocket {state}/no-clamd.sock\n")
    pmgfast(state, "config", "set", "pmgfast", "clamd_conf", str(clamd_conf), check=True)
    proc, lines = start_gateway(state)
    clamav = next(line for line in lines if line.startswith("clamav: "))
    assert f"{state}/no-clamd.sock" in clamav and "mail is answered 451 until clamd runs" in clamav
    database_line = next(line for line in lines if line.startswith("database: "))
    assert f"unix socket {state}/pg/run/.s.PGSQL.5432" in database_line
    assert f"schema version {LATEST}" in database_line
    with psycopg.connect(f"host={state}/pg/run dbname=pmgfast user=pmgfast") as conn:
        assert conn.execute("SELECT count(*) FROM pmgfast_schema").fetchone() == (LATEST,)
    again = pmgfast(state, "start")
    assert again.returncode == 1 and "already running" in again.stderr
    if how == "ctrl-c":
        proc.send_signal(signal.SIGINT)
    else:
        assert "stopped pmgfast" in pmgfast(state, "stop", check=True).stdout
    assert proc.wait(timeout=60) == 0
    assert postgres_processes(state / "pg" / "data") == []
    assert not (state / "run" / "pmgfast.pid").exists()


def test_stop_cleans_up_after_a_killed_instance(state):
    proc, _ = start_gateway(state)
    proc.kill()
    proc.wait(timeout=10)
    assert postgres_processes(state / "pg" / "data") != []
    result = pmgfast(state, "stop", check=True)
    assert "stopped the embedded database" in result.stdout
    assert postgres_processes(state / "pg" / "data") == []
    # and it starts again afterwards
    proc, _ = start_gateway(state)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
