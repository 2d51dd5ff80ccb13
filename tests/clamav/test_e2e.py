"""ClamAV end to end: a real Postfix, the milter pool and a real clamd, PMG's factory rules.

Before- and after-queue: an incoming virus mail is quarantined (virus quarantine, the admin
notified, nothing delivered), an outgoing one is blocked with the sender and the admin
notified; clean mail is delivered; clamd stopped means 451 (before-queue) or a deferred queue
(after-queue) until clamd is back, with no restart of the pool.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pmgfast import rules
from pmgfast.rules import store
from tests.clamav import mails
from tests.clamd import EICAR_NAME, ClamdServer
from tests.e2e.harness import Gateway, wait_for

LOCAL = "local.example"
OUTSIDE = "friend@ext.example"
ADMIN = f"admin@{LOCAL}"
VINFO = f"{EICAR_NAME} (clamav)"


@pytest.fixture(scope="module")
def av_clamd() -> Iterator[ClamdServer]:
    server = ClamdServer.start_new()
    yield server
    server.destroy()


@pytest.fixture(scope="module", params=["before-queue", "after-queue"])
def av_gateway(request, pg_server, av_clamd: ClamdServer) -> Iterator[Gateway]:
    name = pg_server.create_database()
    dsn = pg_server.socket_dsn(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        store.replace(conn, rules.factory())
    root = Path(tempfile.mkdtemp(prefix="pmgfast-e2e-clamav-"))
    root.chmod(0o755)  # Postfix (user postfix) must reach its directories below
    extra = {
        "admin": {"clamav": "1", "email": ADMIN},
        "pmgfast": {"clamd_conf": str(av_clamd.conf_path)},
    }
    gw = Gateway.start(root / request.param, dsn, request.param, extra=extra)
    gw.dsn = dsn  # type: ignore[attr-defined]
    yield gw
    gw.stop()
    pg_server.drop_database(name)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def gw(av_gateway: Gateway, av_clamd: ClamdServer) -> Gateway:
    av_clamd.start()  # a test may have left it stopped
    av_gateway.wait_settled()
    av_gateway.sink.clear()
    return av_gateway


def virus_rows(gw: Gateway) -> list[tuple[str, str, str]]:
    with psycopg.connect(gw.dsn) as conn:  # type: ignore[attr-defined]
        return conn.execute(
            "SELECT m.qtype, m.info, r.pmail FROM cmailstore m "
            "JOIN cmsreceivers r ON r.cmailstore_cid = m.cid AND r.cmailstore_rid = m.rid "
            "ORDER BY m.rid"
        ).fetchall()


def mail(subject: str, sender: str, to: str, build=mails.with_attachment) -> bytes:
    raw = mails.eicar_in_zip() if build is None else build(subject, "eicar.zip", b"")
    return raw.replace(b"sender@example.org", sender.encode()).replace(
        b"rcpt@example.com", to.encode()
    )


def test_incoming_virus_is_quarantined_and_the_admin_notified(gw: Gateway):
    before = len(virus_rows(gw))
    raw = mails.eicar_in_zip().replace(b"rcpt@example.com", f"user@{LOCAL}".encode())
    reply = gw.send(raw, OUTSIDE, [f"user@{LOCAL}"])
    assert reply.accepted, reply  # a quarantine looks like delivery to the client
    gw.wait_settled()
    delivered = gw.sink.messages()
    assert [m.recipients for m in delivered] == [(ADMIN,)]  # only the notification
    assert VINFO.encode() in delivered[0].raw  # __VIRUS_INFO__ in the default body
    rows = virus_rows(gw)[before:]
    assert rows == [("V", VINFO, f"user@{LOCAL}")]
    log = "\n".join(gw.pool.filter_log())
    assert f"virus detected: {VINFO}" in log
    assert f"moved mail for <user@{LOCAL}> to virus quarantine" in log


def test_outgoing_virus_is_blocked_and_sender_and_admin_notified(gw: Gateway):
    before = len(virus_rows(gw))
    raw = mails.eicar_attachment().replace(b"sender@example.org", f"user@{LOCAL}".encode())
    reply = gw.send(raw, f"user@{LOCAL}", [OUTSIDE], port=gw.ports.int)
    if gw.mode == "before-queue":
        assert reply.code == 554, reply
    else:
        assert reply.accepted  # queued first, then dropped
    gw.wait_settled()
    delivered = gw.sink.messages()
    assert sorted(m.recipients for m in delivered) == [(ADMIN,), (f"user@{LOCAL}",)]
    assert not any(OUTSIDE in m.recipients for m in delivered)
    assert virus_rows(gw)[before:] == []
    assert f"block mail to <{OUTSIDE}>" in "\n".join(gw.pool.filter_log())


def test_clean_mail_is_delivered(gw: Gateway):
    raw = mails.clean_mail().replace(b"rcpt@example.com", f"user@{LOCAL}".encode())
    assert gw.send(raw, OUTSIDE, [f"user@{LOCAL}"]).accepted
    gw.wait_settled()
    (got,) = gw.sink.messages()
    assert got.recipients == (f"user@{LOCAL}",)
    assert got.header("X-Proxmox-VInfo") == []


def test_clamd_stopped_then_back_without_a_restart(gw: Gateway, av_clamd: ClamdServer):
    before = len(virus_rows(gw))
    raw = mails.eicar_in_zip_in_zip().replace(b"rcpt@example.com", f"user@{LOCAL}".encode())
    av_clamd.stop()
    reply = gw.send(raw, OUTSIDE, [f"user@{LOCAL}"])
    if gw.mode == "before-queue":
        assert reply.code == 451, reply
        assert gw.sink.messages() == []
        av_clamd.start()
        assert gw.send(raw, OUTSIDE, [f"user@{LOCAL}"]).accepted
    else:
        assert reply.accepted  # queued; the content filter answers 4xx and Postfix retries
        wait_for(lambda: tempfailed(gw), 60, "the filter to answer 451")
        assert gw.postfix.queue_ids()
        av_clamd.start()
    gw.wait_settled()
    assert virus_rows(gw)[before:] == [("V", VINFO, f"user@{LOCAL}")]
    assert not any(f"user@{LOCAL}" in m.recipients for m in gw.sink.messages())
    failures = tempfailed(gw)
    assert failures and all("clamav" in line and "clamd at unix:" in line for line in failures)


def tempfailed(gw: Gateway) -> list[str]:
    return [line for line in gw.pool.filter_log() if "temporary failure (scanner)" in line]
