"""The prefork pool, spoken to through the milter protocol (no Postfix): negotiation, the bytes
the filter sees, verdicts, workers sharing connections, respawn, recycling, SIGHUP, SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

from pmgfast.milter import client as mc
from pmgfast.rules import store
from tests.e2e.conftest import LOCAL, SENDER, install, rules, text_mail
from tests.e2e.harness import wait_for
from tests.milter.conftest import start_pool
from tests.rules import dsl

RAW = (
    b"Received: from client.ext.example (client.ext.example [192.0.2.7])\r\n"
    b"\tby gw.pmgfast.test (Postfix) with ESMTP id TESTQID\r\n"
    b"From: Sender <sender@ext.example>\r\n"
    b"To: user@local.example\r\n"
    b"Subject:  two spaces and a\r\n folded line\r\n"
    b"X-Tab:\tvalue after a tab\r\n"
    b"Message-ID: <bytes@ext.example>\r\n"
    b"\r\n"
    b"Body line one.\r\n"
    b".leading dot\r\n"
    b"\r\n"
    b"last line without end"
)


def test_negotiation_asks_for_one_round_trip_per_message(pool):
    with pool.connect() as client:
        for flag in (
            mc.P_NR_CONN,
            mc.P_NR_HELO,
            mc.P_NR_MAIL,
            mc.P_NR_RCPT,
            mc.P_NR_DATA,
            mc.P_NR_HDR,
            mc.P_NR_EOH,
            mc.P_NR_BODY,
            mc.P_HDR_LEADSPC,
        ):
            assert client.protocol & flag, hex(flag)
        assert not client.protocol & (mc.P_NOHDRS | mc.P_NOBODY)


def test_the_filter_sees_the_message_byte_for_byte(pool):
    before = len(pool.seen())
    result = pool.send(RAW, SENDER, [f"user@{LOCAL}"])
    assert result.action == "accept", result
    seen = pool.seen()
    assert len(seen) == before + 1
    assert RAW in seen  # custom check input: the complete message as received


def test_verdicts_come_back_as_milter_actions(pool):
    blocked = pool.send(text_mail("only blocked"), SENDER, [f"blocked@{LOCAL}"])
    assert blocked.action == "reply"
    assert re.fullmatch(
        r"554 5\.7\.1 Rejected for policy reasons \([0-9A-F]{7,}\)", blocked.reply
    ), blocked.reply
    mixed = pool.send(text_mail("mixed"), SENDER, [f"blocked@{LOCAL}", f"user@{LOCAL}"])
    assert mixed.action == "accept"
    assert ("delrcpt", (f"<blocked@{LOCAL}>",)) in mixed.modifications
    quar = pool.send(text_mail("quarantined"), SENDER, [f"quar@{LOCAL}"])
    assert quar.action == "discard"  # nobody left in Postfix's copy, nobody blocked
    with psycopg.connect(pool.dsn) as conn:
        count = conn.execute(
            "SELECT count(*) FROM cmsreceivers WHERE pmail = %s", (f"quar@{LOCAL}",)
        ).fetchone()
    assert count == (1,)
    tagged = pool.send(text_mail("tagged", X_Tagged="forged"), SENDER, [f"tagged@{LOCAL}"])
    assert tagged.action == "accept"
    assert ("chgheader", (1, "X-Tagged", f" yes {SENDER}")) in tagged.modifications
    exe = pool.send(
        b"From: a@ext.example\r\nSubject: x\r\nContent-Type: application/octet-stream;"
        b" name=run.exe\r\n\r\nMZ\r\n", SENDER, [f"user@{LOCAL}"],
    )  # fmt: skip
    names = [m[0] for m in exe.modifications]
    assert "replbody" in names and "chgheader" in names
    body = exe.body()
    assert body is not None and b"REMOVED_ATTACHMENT_1.txt" in body
    assert b"This attachment was removed: run.exe" in body


def test_oversized_mail_is_refused_at_the_milter(pg_server):
    small = start_pool(pg_server, {"mail": {"maxsize": "20000"}})
    try:
        result = small.send(text_mail("big", body="z" * 30000), SENDER, [f"user@{LOCAL}"])
        assert result.action == "reply" and result.reply.startswith("552 5.3.4"), result
        assert small.send(text_mail("small"), SENDER, [f"user@{LOCAL}"]).action == "accept"
    finally:
        small.stop()


def worker_pids_of(log_file: Path, needle: str) -> set[int]:
    pids = set()
    for line in log_file.read_text().splitlines():
        if needle in line:
            pids.add(int(line.split("pmgfast-milter[", 1)[1].split("]", 1)[0]))
    return pids


def test_connections_are_spread_over_the_workers(pool):
    # Which worker wins an accept() is the kernel's choice: on a busy machine one worker can take
    # a whole burst (libmilter serves each connection in a thread). So up to five bursts of 12
    # slow connections; a pool whose second worker never accepts fails every one of them.
    pids: set[int] = set()
    for burst in range(5):
        threads = []
        for i in range(12):
            raw = text_mail(f"spread {burst}-{i}", X_Sleep="0.5")
            threads.append(
                threading.Thread(target=pool.send, args=(raw, SENDER, [f"user@{LOCAL}"]))
            )
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        pids = worker_pids_of(pool.log_file, "new mail message-id=<spread-")
        if len(pids) == 2:
            break
    assert len(pids) == 2 and pids <= set(pool.pool.workers()), pids


def test_a_dead_worker_is_replaced(pool):
    before = pool.pool.workers()
    os.kill(before[0], signal.SIGKILL)
    wait_for(
        lambda: len(pool.pool.workers()) == 2 and before[0] not in pool.pool.workers(),
        30,
        "a replacement worker",
    )
    assert pool.send(text_mail("after a death"), SENDER, [f"user@{LOCAL}"]).action == "accept"
    assert any(f"worker {before[0]} died (killed by signal 9)" in line for line in pool.log())


def test_workers_retire_after_max_messages(pg_server):
    small = start_pool(pg_server, {"pmgfast": {"milter_max_messages": "3"}})
    try:
        first = set(small.pool.workers())
        # Mail goes on until every first worker has served its 3 and retired: on a busy
        # machine one worker (and its successors) may win many accepts in a row, so a fixed
        # count could leave the other first worker short of 3 (a CI flake).
        deadline = time.monotonic() + 60
        sent = 0
        while first & set(small.pool.workers()) and time.monotonic() < deadline:
            assert small.send(text_mail(f"recycle {sent}"), SENDER, [f"user@{LOCAL}"]).action == (
                "accept"
            )
            sent += 1
        small.wait_log("retires (3 messages)")
        wait_for(
            lambda: len(small.pool.workers()) == 2 and not first & set(small.pool.workers()),
            30,
            "replacements for the retired workers",
        )
        assert sent >= 6  # two first workers, three messages each
        assert small.send(text_mail("after recycling"), SENDER, [f"user@{LOCAL}"]).action == (
            "accept"
        )
    finally:
        small.stop()


def test_sighup_reloads_rules_without_dropping_an_open_connection(pg_server):
    small = start_pool(pg_server)
    try:
        held = small.connect()  # a session in progress when the rules change
        assert held.message(SENDER, [f"user@{LOCAL}"], text_mail("before")).action == "accept"
        old = set(small.pool.workers())
        blocking = dsl.build([dsl.rule("block all", 99, action=dsl.BLOCK)])
        install(small.dsn, blocking)
        small.pool.process.send_signal(signal.SIGHUP)
        wait_for(lambda: len(set(small.pool.workers()) - old) == 2, 30, "the new workers")
        # the open session still works (on its old worker, with the rules it started with)
        assert held.message(SENDER, [f"user@{LOCAL}"], text_mail("during")).action == "accept"
        held.close()
        wait_for(lambda: not old & set(small.pool.workers()), 30, "the old workers to drain")
        result = small.send(text_mail("after"), SENDER, [f"user@{LOCAL}"])
        assert result.action == "reply" and result.reply.startswith("554 5.7.1"), result
    finally:
        small.stop()
        with psycopg.connect(small.dsn, autocommit=True) as conn:
            store.replace(conn, rules())


def test_sigterm_lets_a_message_in_flight_finish(pg_server):
    small = start_pool(pg_server)
    result: list[mc.StageResult] = []
    sender = threading.Thread(
        target=lambda: result.append(
            small.send(text_mail("in flight", X_Sleep="2"), SENDER, [f"user@{LOCAL}"])
        )
    )
    sender.start()
    wait_for(lambda: len(small.seen()) == 1, 30, "the message to be in the filter")
    workers = small.pool.workers()
    code = small.stop()
    sender.join(30)
    assert code == 0
    assert [r.action for r in result] == ["accept"]
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)


def test_scan_gives_the_verdicts_of_the_milter(pool, corpus):
    samples = sorted((corpus / "spamassassin" / "ham").iterdir())[:5]
    recipients = [f"blocked@{LOCAL}", f"user@{LOCAL}", f"tagged@{LOCAL}"]
    milter = {}
    for path in samples:
        pool.send(path.read_bytes(), SENDER, recipients)
    for line in pool.log():
        match = re.search(r": (accept|block) mail to <([^>]+)> .*\(rule: ([^)]+)\)$", line)
        if match:
            milter.setdefault(match.group(2), set()).add((match.group(1), match.group(3)))
    out = subprocess.run(
        [sys.executable, "-m", "pmgfast", "--state-dir", str(pool.pool.state),
         "--config-dir", str(pool.pool.config_dir), "scan", "--json", "--from", SENDER,
         *[arg for r in recipients for arg in ("--to", r)], *map(str, samples)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    scanned = {}
    for line in out.splitlines():
        for r in json.loads(line)["recipients"]:
            scanned.setdefault(r["address"], set()).add((r["verdict"], r["rule"]))
    for rcpt in recipients:
        assert scanned[rcpt] <= milter[rcpt], (rcpt, scanned[rcpt], milter[rcpt])
    assert scanned[f"blocked@{LOCAL}"] == {("block", "block")}


def test_a_unix_socket_pool_serves_and_keeps_its_path_across_reloads(pg_server):
    small = start_pool(pg_server, socket="unix:{root}/run/milter.sock")
    try:
        path = small.root / "run" / "milter.sock"
        assert path.is_socket() and oct(path.stat().st_mode & 0o777) == "0o666"
        assert small.send(text_mail("unix"), SENDER, [f"user@{LOCAL}"]).action == "accept"
        small.pool.reload()
        assert path.is_socket()
        assert small.send(text_mail("unix again"), SENDER, [f"user@{LOCAL}"]).action == "accept"
        assert small.pool.stop() == 0
        assert not path.exists()  # the master removes it when it stops
    finally:
        small.stop()
