"""The smaller parts of the milter path: the reply plan, the custom check interface, body
spilling, direction from macros, the Postfix rendering, statistics and quarantine storage."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from pmgfast.actions.plan import plan
from pmgfast.config import pmgconf
from pmgfast.db.connect import DatabaseUnavailable, connect
from pmgfast.milter.context import Direction, new_message
from pmgfast.milter.spill import BodyBuffer
from pmgfast.postfix import postfix_milter_address, render
from pmgfast.quarantine import DatabaseHandle, QuarantineStore
from pmgfast.rules.outcome import Block, Deliver, Outcome, Quarantine, SetHeader
from pmgfast.scan import ScanItem
from pmgfast.scan.custom import CustomCheck, CustomCheckError, parse_output
from pmgfast.stats import StatRecipient, StatRow, StatsWriter

# --- the plan ---------------------------------------------------------------------------


def outcome(*steps) -> Outcome:
    return Outcome((), tuple(steps), (), (), "", 0, ())


TAG = (SetHeader("X-T", "1", "1"),)


@pytest.mark.parametrize(
    ("steps", "rcpts", "before", "ndr", "reply", "remove", "reinjected", "ndr_to"),
    [
        # everybody accepted with the same copy: nothing to change
        ([Deliver("r", 1, ("a", "b"), ())], "ab", True, False, "accept", "", 0, ""),
        # all blocked: before the queue a 554; after it dropped, or bounced with ndr_on_block
        ([Block("r", 1, ("a", "b"))], "ab", True, False, "reject", "ab", 0, ""),
        ([Block("r", 1, ("a", "b"))], "ab", False, False, "discard", "ab", 0, ""),
        ([Block("r", 1, ("a", "b"))], "ab", False, True, "reject", "ab", 0, ""),
        # partly blocked: removed; with ndr_on_block an NDR for them
        ([Block("r", 1, ("a",)), Deliver("d", None, ("b",), ())], "ab", True, True, "accept",
         "a", 0, "a"),
        # all quarantined: nothing left, nobody blocked
        ([Quarantine("q", 2, "S", ("a", "b"), ())], "ab", True, False, "discard", "ab", 0, ""),
        # two copies: the larger group stays, the other is re-injected
        ([Deliver("t", 3, ("a",), TAG), Deliver("d", None, ("b", "c"), ())], "abc", True, False,
         "accept", "a", 1, ""),
    ],
)  # fmt: skip
def test_the_plan(steps, rcpts, before, ndr, reply, remove, reinjected, ndr_to):
    p = plan(outcome(*steps), list(rcpts), before, ndr)
    assert p.reply == reply
    assert "".join(p.remove) == remove
    assert len(p.reinject) == reinjected
    assert "".join(p.ndr) == ndr_to


# --- the custom check -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("v1\nOK\n", (None, 0.0)),
        ("v1\nSCORE: 4\n", (None, 4.0)),
        ("v1\nSCORE: -2.5\n", (None, -2.5)),
        ("v1\nVIRUS: Random Virus\n", ("Random Virus", 0.0)),
        ("\nv1\n\nOK\n", (None, 0.0)),
    ],
)
def test_custom_check_output(out, expected):
    assert parse_output(out) == expected


@pytest.mark.parametrize(
    "out",
    ["OK\n", "v2\nOK\n", "v1\nOK\nOK\n", "v1\n", "v1\nSCORE: lots\n", "v1\nmaybe\n"],
)
def test_custom_check_output_errors(out):
    with pytest.raises(CustomCheckError):
        parse_output(out)


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "check"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def run_check(tmp_path: Path, body: str, budget: float = 30.0):
    item = ScanItem(
        "ABCDEF123", b"Subject: x\r\n\r\nbody\r\n", "a@b", ("c@d",), False, None, tmp_path / "tmp"
    )
    try:
        check = CustomCheck(path=script(tmp_path, body), budget=budget)
        import time

        return check.scan(item, time.monotonic() + budget)
    finally:
        item.cleanup()


def test_custom_check_runs_the_script_with_the_v1_arguments(tmp_path):
    verdict = run_check(
        tmp_path,
        'echo "args: $*" >&2\n[ "$1" = v1 ] && grep -q body "$2" && echo v1 && echo "SCORE: 3"\n',
    )
    assert verdict.score == 3.0 and verdict.virus is None
    ((line, is_error),) = verdict.log
    assert is_error and re.fullmatch(r"ABCDEF123: custom check: args: v1 \S+/ABCDEF123\.eml", line)
    verdict = run_check(tmp_path, "echo v1; echo 'VIRUS: Eicar'\n")
    assert verdict.virus == "Eicar"


def test_custom_check_failures_are_treated_as_ok(tmp_path):
    garbage = run_check(tmp_path, "echo v1; echo whatever\n")
    assert garbage.virus is None and garbage.score == 0
    assert any("custom check failed: got unexpected output" in line for line, _ in garbage.log)
    slow = run_check(tmp_path, "sleep 30; echo v1; echo 'VIRUS: late'\n", budget=0.5)
    assert slow.virus is None
    assert any("timed out after 0.5 s, treated as OK" in line for line, _ in slow.log)
    missing = CustomCheck(path=str(tmp_path / "nonexistent"))
    item = ScanItem("F00D123", b"x", "a", (), False, None, tmp_path)
    assert missing.scan(item, 1e18).virus is None
    item.cleanup()


# --- spilling and limits ----------------------------------------------------------------


def test_body_spills_to_a_file_and_is_removed_after(tmp_path):
    body = BodyBuffer(spill_size=10, maxsize=1000, spill_dir=tmp_path)
    body.write(b"12345")
    assert not body.spilled
    body.write(b"6789012345")
    assert body.spilled and len(list(tmp_path.iterdir())) == 1
    body.write(b"abc")
    assert body.getvalue() == b"123456789012345abc"
    body.close()
    assert list(tmp_path.iterdir()) == []


def test_body_beyond_maxsize_is_dropped_not_kept(tmp_path):
    body = BodyBuffer(spill_size=10, maxsize=100, spill_dir=tmp_path)
    body.write(b"x" * 60, already=30)
    body.write(b"y" * 60, already=30)
    assert body.too_big and body.size == 120 and body.getvalue() == b""
    assert list(tmp_path.iterdir()) == []


def test_message_context_rebuilds_the_raw_message(tmp_path):
    msg = new_message(
        "<a@b.example>", ("SIZE=10", "RET=HDRS", "ENVID=x1"), 1 << 20, 1 << 20, tmp_path
    )
    msg.add_header("Subject", b" two\n\tlines")
    msg.add_header("From", b"\ta@b")
    msg.body.write(b"body\r\n")
    assert msg.sender == "a@b.example"
    assert msg.sender_params == (("RET", "HDRS"), ("ENVID", "x1"))
    assert msg.raw() == b"Subject: two\r\n\tlines\r\nFrom:\ta@b\r\n\r\nbody\r\n"
    assert msg.size == len(msg.raw())


@pytest.mark.parametrize(
    ("name", "port", "auth", "trusted", "mode"),
    [
        ("pmgfast-in", "25", False, False, "before-queue"),
        ("pmgfast-out", "26", False, True, "before-queue"),
        ("pmgfast-aq-in", "10024", False, False, "after-queue"),
        ("pmgfast-aq-out", "10023", False, True, "after-queue"),
        ("mx.example", "26", False, True, "before-queue"),  # PMG: the int_port is trusted
        ("mx.example", "25", True, True, "before-queue"),  # authenticated clients too
        (None, None, False, False, "before-queue"),
    ],
)
def test_direction_and_mode_from_macros(name, port, auth, trusted, mode):
    assert Direction(26, True).classify(name, port, auth) == (trusted, mode)


# --- Postfix rendering ------------------------------------------------------------------


def test_rendered_entries_are_valid_postfix_configuration(tmp_path):
    conf = pmgconf.load(tmp_path / "none.conf")
    assert postfix_milter_address("inet:10026@127.0.0.1") == "inet:127.0.0.1:10026"
    assert postfix_milter_address("unix:/run/pmgfast/milter") == "unix:/run/pmgfast/milter"
    for mode in ("before-queue", "after-queue"):
        rendered = render(conf, None, mode)
        etc = tmp_path / mode
        etc.mkdir()
        (etc / "main.cf").write_text(rendered.main)
        (etc / "master.cf").write_text(rendered.master)
        main = subprocess.run(
            ["postconf", "-c", str(etc), "-n"], capture_output=True, text=True, check=True
        ).stdout
        assert "milter_default_action = tempfail" in main
        master = subprocess.run(
            ["postconf", "-c", str(etc), "-M"], capture_output=True, text=True, check=True
        )
        assert not master.stderr, master.stderr
        services = master.stdout
        assert "127.0.0.1:10025" in services and "smtpd_milters=" in services
        if mode == "before-queue":
            assert "smtpd_milters=inet:127.0.0.1:10026" in services
            assert "content_filter=pmgfast-scan" not in services
        else:
            assert "content_filter=pmgfast-scan:[127.0.0.1]:10024" in services
            assert "milter_macro_daemon_name=pmgfast-aq-out" in services


def test_an_admin_template_overrides_the_builtin_one(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "postfix-milter-main.cf.in").write_text(
        "milter_default_action = accept  # {{ pmg.mail.maxsize }}\n"
    )
    rendered = render(pmgconf.load(tmp_path / "pmg.conf"), tmp_path, "before-queue")
    assert rendered.main == "milter_default_action = accept  # 10485760\n"


# --- statistics and quarantine, on PostgreSQL -------------------------------------------


def row(i: int, blocked: bool = False) -> StatRow:
    return StatRow(1_700_000_000 + i, 1000 + i, True, 2.0, None, 15, f"s{i}@ext.example",
                   (StatRecipient(f"r{i}@local.example", blocked, "block" if blocked else
                                  "accept", "rule"),))  # fmt: skip


def test_statistics_rows_are_copied_in_batches(pg_dsn):
    with psycopg.connect(pg_dsn) as conn:
        rule_id = conn.execute(
            "INSERT INTO rule (name, priority, active) VALUES ('r', 50, 1) RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
        conn.commit()
    writer = StatsWriter(lambda: connect(pg_dsn), batch=100).start()
    for i in range(250):
        writer.add(
            row(i, blocked=i % 2 == 0)
            if i
            else StatRow(1, 2, False, 0, "Eicar (clamav)", 1, "", (), (rule_id, rule_id))
        )
    assert writer.flush(30)
    writer.close()
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cstatistic").fetchone() == (250,)
        assert conn.execute("SELECT count(*) FROM creceivers WHERE blocked").fetchone() == (124,)
        assert conn.execute("SELECT count FROM rule WHERE id = %s", (rule_id,)).fetchone() == (2,)
        virus = conn.execute("SELECT direction, virusinfo FROM cstatistic WHERE sender = ''")
        assert virus.fetchone() == (False, "Eicar (clamav)")


def test_statistics_wait_while_the_database_is_down(pg_dsn):
    attempts = []

    def flaky() -> psycopg.Connection:
        attempts.append(1)
        if len(attempts) < 3:
            raise DatabaseUnavailable("down for the test")
        return connect(pg_dsn)

    writer = StatsWriter(flaky, batch=10, interval=0.05).start()
    for i in range(30):
        writer.add(row(i))
    assert writer.flush(30)
    writer.close()
    assert writer.written == 30 and writer.failures == 2 and writer.dropped == 0
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cstatistic").fetchone() == (30,)


def test_statistics_memory_is_bounded(pg_dsn):
    writer = StatsWriter(lambda: connect(pg_dsn), max_pending=5)
    for i in range(8):
        writer.add(row(i))  # no thread: nothing is written, the oldest are dropped
    assert writer.pending == 5 and writer.dropped == 3


def test_quarantine_writes_the_file_then_the_rows(pg_dsn, tmp_path):
    store = QuarantineStore(tmp_path, DatabaseHandle(lambda: connect(pg_dsn)))
    raw = b"Return-Path: <old@x>\r\nSubject: hi\r\nFrom: a@ext.example\r\n\r\nbody\r\n"
    stored = store.store(
        "S",
        raw,
        "a@ext.example",
        ["User@Local.example", "b@local.example"],
        spamlevel=7,
        info="RULE:3",
    )
    assert re.fullmatch(r"spam/[0-9A-F]{2}/[0-9A-F]{7,25}", stored.path)
    data = (tmp_path / stored.path).read_bytes()
    assert data == (
        b"Return-Path: <a@ext.example>\nDelivered-To: User@Local.example,"
        b"b@local.example\nSubject: hi\nFrom: a@ext.example\n\nbody\n"
    )
    assert oct(os.stat(tmp_path / stored.path).st_mode & 0o777) == "0o644"
    with psycopg.connect(pg_dsn) as conn:
        mail = conn.execute(
            "SELECT qtype, spamlevel, info, header, bytes FROM cmailstore WHERE rid = %s",
            (stored.id,),
        ).fetchone()
        rcpts = conn.execute(
            "SELECT pmail, receiver, ticketid FROM cmsreceivers"
            " WHERE cmailstore_rid = %s ORDER BY pmail",
            (stored.id,),
        ).fetchall()
    assert mail == ("S", 7, "RULE:3", "Subject: hi\nFrom: a@ext.example\n", len(data))
    assert [(p, r) for p, r, _ in rcpts] == [
        ("b@local.example", None),
        ("user@local.example", "User@Local.example"),
    ]
    assert sorted(t for _, _, t in rcpts) == list(stored.ticket_ids)


def test_quarantine_leaves_no_file_when_the_database_is_down(tmp_path):
    def down() -> psycopg.Connection:
        raise DatabaseUnavailable("cannot connect to PostgreSQL (test): refused")

    store = QuarantineStore(tmp_path, DatabaseHandle(down))
    with pytest.raises(DatabaseUnavailable):
        store.store("V", b"Subject: x\n\nbody\n", "a@b", ["c@d"], info="Eicar")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    shutil.rmtree(tmp_path / "virus", ignore_errors=True)
