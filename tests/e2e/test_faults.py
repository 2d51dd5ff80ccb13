"""Faults on the real mail path: a worker killed mid-message, the database gone, an oversized
message, a message with 5,000 parts, broken MIME.

The gateway here has its own PostgreSQL (so stopping it harms no other test) and a custom
check script that holds a marked message until the test kills the worker filtering it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import LOCAL, SENDER, install, rules, text_mail
from tests.e2e.harness import Gateway, Reply, wait_for
from tests.pg import PgServer

MAXSIZE = 2_000_000

HOLD_SCRIPT = """#!/bin/sh
# custom check v1 for the fault tests: the first message marked X-Hold is held (the script
# records its parent, the milter worker, and sleeps) until the test kills that worker
if grep -q '^X-Hold: yes' "$2" && [ ! -e {dir}/held ]; then
    echo "$PPID $$" > {dir}/held.tmp && mv {dir}/held.tmp {dir}/held
    exec sleep 120
fi
echo v1
echo OK
"""


@pytest.fixture(scope="module")
def own_pg() -> Iterator[PgServer]:
    server = PgServer.start()
    yield server
    server.stop()


def start_gateway(root: Path, pg: PgServer, mode: str) -> Gateway:
    name = pg.create_database()
    dsn = pg.socket_dsn(name)
    install(dsn, rules())
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    script = root / "hold-check"
    script.write_text(HOLD_SCRIPT.format(dir=root))
    script.chmod(0o755)
    gw = Gateway.start(
        root / "gw",
        dsn,
        mode,
        extra={
            "admin": {"custom_check": "1", "custom_check_path": str(script)},
            "mail": {"maxsize": str(MAXSIZE)},
        },
    )
    gw.dsn = dsn  # type: ignore[attr-defined]
    gw.hold_dir = root  # type: ignore[attr-defined]
    return gw


@pytest.fixture(scope="module", params=["before-queue", "after-queue"])
def faulty(request, own_pg) -> Iterator[Gateway]:
    root = Path(tempfile.mkdtemp(prefix="pmgfast-faults-"))
    root.chmod(0o755)
    gw = start_gateway(root / request.param, own_pg, request.param)
    yield gw
    gw.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def gw(faulty: Gateway) -> Gateway:
    faulty.wait_settled()
    faulty.sink.clear()
    return faulty


def send_in_background(gw: Gateway, raw: bytes, rcpts: list[str]) -> tuple[threading.Thread, list]:
    result: list[Reply] = []
    thread = threading.Thread(target=lambda: result.append(gw.send(raw, SENDER, rcpts)))
    thread.start()
    return thread, result


def copies(gw: Gateway, message_id: str) -> int:
    return sum(1 for m in gw.sink.messages() if m.header("Message-ID") == [message_id])


def test_worker_killed_mid_message_loses_nothing(gw):
    held = gw.hold_dir / "held"  # type: ignore[attr-defined]
    held.unlink(missing_ok=True)
    raw = text_mail("hold me", X_Hold="yes")
    thread, result = send_in_background(gw, raw, [f"user@{LOCAL}"])
    wait_for(held.exists, 60, "the custom check to hold the message")
    worker, sleeper = (int(p) for p in held.read_text().split())
    assert worker in gw.pool.workers()
    os.kill(worker, signal.SIGKILL)
    try:
        thread.join(120)
        if gw.mode == "before-queue":
            # Postfix could not finish with the milter: a temporary failure for the client,
            # which sends again
            (reply,) = result
            assert reply.code == 451, reply
            assert gw.send(raw, SENDER, [f"user@{LOCAL}"]).accepted
        else:
            assert result[0].accepted  # queued; Postfix retries the filter by itself
        gw.wait_settled(120)
        assert copies(gw, "<hold-me@ext.example>") == 1
        # the master replaced the worker
        wait_for(
            lambda: len(gw.pool.workers()) == 2 and worker not in gw.pool.workers(),
            30,
            "a new worker",
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(sleeper, signal.SIGKILL)
        held.unlink(missing_ok=True)


def test_database_outage_is_a_temporary_failure_then_service_resumes(gw, own_pg):
    master = gw.pool.process.pid  # type: ignore[union-attr]
    workers = set(gw.pool.workers())
    own_pg.server.stop()
    try:
        # quarantine needs the database: 451 with the filter id, nothing stored or delivered
        reply = gw.send(text_mail("during outage"), SENDER, [f"quar@{LOCAL}", f"user@{LOCAL}"])
        if gw.mode == "before-queue":
            assert reply.code == 451, reply
            pattern = r"4\.4\.0 detected undelivered mail \([0-9A-F]{7,}\)"
            assert re.search(pattern, reply.text), reply
        else:
            assert reply.accepted  # queued; the filter's 451 keeps it deferred in the queue
            wait_for(
                lambda: any("temporary failure (database)" in line
                            for line in gw.pool.filter_log()),
                60, "the filter's temporary failure",
            )  # fmt: skip
            assert gw.postfix.queue_ids()
        # mail that needs no database still flows; its statistics wait in memory
        assert gw.send(text_mail("plain during outage"), SENDER, [f"user@{LOCAL}"]).accepted
        wait_for(
            lambda: copies(gw, "<plain-during-outage@ext.example>") == 1,
            60,
            "the mail that needs no database",
        )
        assert copies(gw, "<during-outage@ext.example>") == 0
        assert any("temporary failure (database)" in line for line in gw.pool.filter_log())
    finally:
        own_pg.server.start()
    if gw.mode == "before-queue":
        # the client tries again
        reply = gw.send(text_mail("during outage"), SENDER, [f"quar@{LOCAL}", f"user@{LOCAL}"])
        assert reply.accepted, reply
    gw.wait_settled(120)
    assert copies(gw, "<during-outage@ext.example>") == 1
    assert gw.pool.process.pid == master  # type: ignore[union-attr]
    assert set(gw.pool.workers()) == workers

    def stored() -> list[tuple]:
        with psycopg.connect(gw.dsn) as conn:  # type: ignore[attr-defined]
            return conn.execute(
                "SELECT m.qtype FROM cmailstore m JOIN cmsreceivers r"
                " ON r.cmailstore_rid = m.rid WHERE r.pmail = %s AND m.header LIKE %s",
                (f"quar@{LOCAL}", "%during outage%"),
            ).fetchall()

    # stored and delivered once, by the same processes (no restart)
    assert stored() == [("S",)]

    def statistics_of_the_outage() -> int:
        with psycopg.connect(gw.dsn) as conn:  # type: ignore[attr-defined]
            row = conn.execute(
                "SELECT count(*) FROM cstatistic WHERE sender = %s", (SENDER,)
            ).fetchone()
            return int(row[0]) if row else 0

    wait_for(lambda: statistics_of_the_outage() >= 2, 60, "the statistics written late")


def test_message_twice_maxsize_is_refused(gw):
    big = text_mail("too big", body="x" * 76 + "\n") + b"y" * 76 * (2 * MAXSIZE // 77) + b"\n"
    reply = gw.send(big, SENDER, [f"user@{LOCAL}"])
    assert reply.code == 552, reply
    gw.wait_settled()
    assert gw.sink.messages() == []


def many_parts(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = f"user@{LOCAL}"
    msg["Subject"] = "many parts"
    msg["Message-ID"] = "<many-parts@ext.example>"
    msg.set_content("first\n")
    for i in range(n - 1):
        msg.add_attachment(f"part {i}\n", filename=f"p{i}.txt")
    return msg.as_bytes()


def test_5000_parts_are_handled_by_policy(gw):
    raw = many_parts(5000)
    assert len(raw) < MAXSIZE
    # PMG's policy: a message beyond the part limit cannot be parsed safely -> 451, unless
    # the admin accepts broken MIME
    reply = gw.send(raw, SENDER, [f"user@{LOCAL}"])
    if gw.mode == "before-queue":
        assert reply.code == 451, reply
    else:
        assert reply.accepted
        wait_for(
            lambda: any("temporary failure (parse)" in line for line in gw.pool.filter_log()),
            60,
            "the filter's verdict",
        )
        assert gw.postfix.queue_ids()  # deferred in Postfix's queue, not lost
    assert any("TooManyPartsDefect" in line for line in gw.pool.filter_log())
    # with mail.accept-broken-mime the mail passes, marked; SIGHUP reloads the configuration
    conf = gw.pool.conf()
    conf.set("mail", "accept-broken-mime", "1")
    conf.save()
    gw.pool.reload()
    try:
        if gw.mode == "before-queue":
            assert gw.send(raw, SENDER, [f"user@{LOCAL}"]).accepted
        gw.wait_settled(120)
        (got,) = [m for m in gw.sink.messages() if m.header("Subject") == ["many parts"]]
        assert got.header("X-Proxmox-Broken-Message") == ["caused errors while parsing"]
    finally:
        conf.set("mail", "accept-broken-mime", "0")
        conf.save()
        gw.pool.reload()


def test_broken_mime_from_the_corpus_is_delivered(gw, corpus):
    folder = corpus / "mime" / "mail-parser" / "malformed"
    files = sorted(p for p in folder.iterdir() if p.suffix == ".eml")[:8]
    assert files
    for path in files:
        reply = gw.send(path.read_bytes(), SENDER, [f"user@{LOCAL}"])
        assert reply.accepted, (path.name, reply)
    gw.wait_settled(60)
    assert len(gw.sink.messages()) == len(files)
