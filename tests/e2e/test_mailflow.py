"""Mail through a real Postfix and the milter pool, before- and after-queue: what arrives where.

Each test sends with smtplib to the gateway's incoming port and checks the SMTP reply, what
smtp-sink received (envelope and content), the quarantine spool and rows, the statistics rows
and the filter's log lines.
"""

from __future__ import annotations

import email
from email import policy

import psycopg

from tests.e2e.conftest import LOCAL, SENDER, mail_with_attachment, text_mail
from tests.e2e.harness import Gateway, wait_for


def log_of(gw: Gateway, message_id: str) -> list[str]:
    """The filter's lines for the message with ``message_id`` (by its filter id)."""
    lines = gw.pool.filter_log()
    fids = {
        line.split(": ", 1)[0]
        for line in lines
        if line.endswith(f"new mail message-id={message_id}")
    }
    return [line for line in lines if line.split(": ", 1)[0] in fids]


def test_accepted_mail_arrives_unchanged_but_for_the_received_header(gw, corpus):
    ham = sorted((corpus / "spamassassin" / "ham").iterdir())[3].read_bytes()
    reply = gw.send(ham, SENDER, [f"user@{LOCAL}"])
    assert reply.accepted, reply
    gw.wait_settled()
    (got,) = gw.sink.messages()
    assert got.sender == SENDER and got.recipients == (f"user@{LOCAL}",)
    sent = email.message_from_bytes(ham, policy=policy.compat32)
    arrived = email.message_from_bytes(got.raw, policy=policy.compat32)
    body = ham.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
    assert got.raw.split(b"\n\n", 1)[1].rstrip(b"\n") == body.rstrip(b"\n")
    assert arrived["Subject"] == sent["Subject"]
    # Postfix added one Received header per pass (two after the queue); nothing else changed
    added = len(arrived.get_all("Received", [])) - len(sent.get_all("Received", []))
    assert added == (1 if gw.mode == "before-queue" else 2)
    lines = log_of(gw, sent["Message-ID"].strip())
    assert any(
        f"accept mail to <user@{LOCAL}>" in line and "(rule: default-accept)" in line
        for line in lines
    ), lines
    assert any(": processing time: " in line for line in lines)


def test_mail_for_blocked_recipients_only_is_refused_or_dropped(gw):
    raw = text_mail("blocked only")
    reply = gw.send(raw, SENDER, [f"blocked@{LOCAL}"])
    if gw.mode == "before-queue":
        assert reply.code == 554 and "5.7.1 Rejected for policy reasons (" in reply.text
    else:
        assert reply.accepted  # queued first, then dropped silently (no ndr_on_block)
    gw.wait_settled()
    assert gw.sink.messages() == []
    lines = log_of(gw, "<blocked-only@ext.example>")
    assert any(f"block mail to <blocked@{LOCAL}> (rule: block)" in line for line in lines)


def test_blocked_recipient_is_removed_the_others_get_the_mail(gw):
    reply = gw.send(text_mail("mixed block"), SENDER, [f"blocked@{LOCAL}", f"user@{LOCAL}"])
    assert reply.accepted
    gw.wait_settled()
    (got,) = gw.sink.messages()
    assert got.recipients == (f"user@{LOCAL}",)


def test_quarantined_mail_is_stored_and_not_delivered(gw):
    raw = text_mail("to quarantine")
    reply = gw.send(raw, SENDER, [f"quar@{LOCAL}", f"user@{LOCAL}"])
    assert reply.accepted
    gw.wait_settled()
    (got,) = gw.sink.messages()
    assert got.recipients == (f"user@{LOCAL}",)
    lines = log_of(gw, "<to-quarantine@ext.example>")
    moved = [line for line in lines if "moved mail for" in line]
    assert len(moved) == 1 and f"<quar@{LOCAL}> to spam quarantine - " in moved[0], lines
    uid = moved[0].split(" - ")[1].split(" ")[0]
    with psycopg.connect(gw.dsn) as conn:  # type: ignore[attr-defined]
        row = conn.execute(
            "SELECT qtype, sender, file, rid FROM cmailstore WHERE file LIKE %s",
            (f"%/{uid}",),
        ).fetchone()
        assert row is not None
        qtype, sender, relative, rid = row
        receivers = conn.execute(
            "SELECT pmail, status FROM cmsreceivers WHERE cmailstore_rid = %s", (rid,)
        ).fetchall()
    assert (qtype, sender) == ("S", SENDER)
    assert receivers == [(f"quar@{LOCAL}", "N")]
    stored = (gw.pool.state / "spool" / relative).read_bytes()
    assert stored.startswith(f"Return-Path: <{SENDER}>\nDelivered-To: quar@{LOCAL}\n".encode())
    assert b"Subject: to quarantine" in stored


def test_exe_attachment_is_replaced(gw):
    raw = mail_with_attachment("setup.exe", b"MZ\x90\x00" + bytes(range(256)) * 8)
    reply = gw.send(raw, SENDER, [f"user@{LOCAL}"])
    assert reply.accepted
    gw.wait_settled()
    (got,) = gw.sink.messages()
    arrived = email.message_from_bytes(got.raw, policy=policy.default)
    names = [part.get_filename() for part in arrived.walk() if part.get_filename()]
    assert names == ["REMOVED_ATTACHMENT_3.txt"]
    removed = next(p for p in arrived.walk() if p.get_filename())
    assert removed.get_content() == "This attachment was removed: setup.exe\n"
    assert arrived.get_body(("plain",)).get_content() == "See the attachment.\n"
    lines = log_of(gw, "<attachment@ext.example>")
    assert any("removed attachment 3 ('setup.exe', rule: strip exe)" in line for line in lines)


def test_divergent_recipients_get_their_own_copies(gw):
    raw = text_mail("divergent", X_Tagged="forged by the sender")
    reply = gw.send(raw, SENDER, [f"tagged@{LOCAL}", f"user@{LOCAL}", f"other@{LOCAL}"])
    assert reply.accepted
    gw.wait_settled()
    by_rcpt = {r: m for m in gw.sink.messages() for r in m.recipients}
    assert set(by_rcpt) == {f"tagged@{LOCAL}", f"user@{LOCAL}", f"other@{LOCAL}"}
    assert by_rcpt[f"tagged@{LOCAL}"].header("X-Tagged") == [f"yes {SENDER}"]
    # the rule would set an X- header, so the incoming one is removed for everybody (PMG)
    assert by_rcpt[f"user@{LOCAL}"].header("X-Tagged") == []
    assert by_rcpt[f"user@{LOCAL}"] is by_rcpt[f"other@{LOCAL}"]
    assert by_rcpt[f"tagged@{LOCAL}"] is not by_rcpt[f"user@{LOCAL}"]
    lines = log_of(gw, "<divergent@ext.example>")
    qids = {
        line.split("> (", 1)[1].split(")")[0]
        for line in lines if "accept mail to" in line
    }  # fmt: skip
    assert len(qids) == 2, lines  # the original and one re-injected copy


def test_bcc_and_notification_go_out_through_postfix(gw):
    reply = gw.send(text_mail("copies"), SENDER, [f"bcc-me@{LOCAL}", f"notify@{LOCAL}"])
    assert reply.accepted
    gw.wait_settled()
    messages = gw.sink.messages()
    archive = [m for m in messages if m.recipients == (f"archive@{LOCAL}",)]
    admin = [m for m in messages if m.recipients == (f"admin@{LOCAL}",)]
    assert len(archive) == 1 and archive[0].sender == SENDER
    assert archive[0].header("Subject") == ["copies"]
    assert len(admin) == 1 and admin[0].header("Subject") == ["Seen: copies"]
    assert admin[0].header("Auto-Submitted") == ["auto-generated"]
    assert f"Mail from {SENDER} to notify@{LOCAL}".encode() in admin[0].raw
    originals = [m for m in messages if f"bcc-me@{LOCAL}" in m.recipients]
    assert len(originals) == 1 and f"notify@{LOCAL}" in originals[0].recipients


def test_statistics_rows_are_written(gw):
    raw = text_mail("statistics")
    assert gw.send(raw, SENDER, [f"user@{LOCAL}", f"blocked@{LOCAL}"]).accepted
    gw.wait_settled()

    def rows() -> list[tuple]:
        with psycopg.connect(gw.dsn) as conn:  # type: ignore[attr-defined]
            return conn.execute(
                "SELECT s.direction, s.sender, r.receiver, r.blocked, r.action, r.rule"
                " FROM cstatistic s JOIN creceivers r ON r.cstatistic_rid = s.rid"
                " WHERE s.sender = %s AND r.receiver IN (%s, %s) ORDER BY r.receiver",
                (SENDER, f"user@{LOCAL}", f"blocked@{LOCAL}"),
            ).fetchall()

    wait_for(lambda: len(rows()) >= 2, 15, "statistics rows")
    got = rows()
    assert (True, SENDER, f"blocked@{LOCAL}", True, "block", "block") in got
    assert (True, SENDER, f"user@{LOCAL}", False, "accept", "default-accept") in got
