"""Greylisting with after-queue filtering, through a real Postfix configured by ``pmgfast config
sync``: the incoming smtpd asks the pool's RCPT stage (a gate that accepts at DATA), the mail
is queued, and the filter smtpd behind the queue runs the content filter."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import install, rules, text_mail
from tests.smtp.conftest import LOCAL, zone
from tests.smtp.gateway import SyncedGateway

RECORD = 'x._domainkey IN TXT ( "v=DKIM1; k=rsa; p=" )'


@pytest.fixture(scope="module")
def gateway(pg_server) -> Iterator[SyncedGateway]:
    root = Path(tempfile.mkdtemp(prefix="pmgfast-smtp-aq-"))
    root.chmod(0o755)
    name = pg_server.create_database()
    dsn = pg_server.socket_dsn(name)
    install(dsn, rules())
    gw = SyncedGateway.start(root, dsn, zone(RECORD), mode="after-queue",
                             lists={"domains": f"{LOCAL}\n"})  # fmt: skip
    yield gw
    gw.stop()
    pg_server.drop_database(name)
    shutil.rmtree(root, ignore_errors=True)


def test_after_queue_greylisting_at_the_gate(gateway):
    gw = gateway
    assert "milter_macro_daemon_name=pmgfast-gate" in (gw.postfix.etc / "master.cf").read_text()
    rcpt = f"aq@{LOCAL}"
    first = gw.send(text_mail("aq"), "x@ext.example", [rcpt], client_ip="192.0.2.20")
    assert first.rcpt_replies == [(450, "4.7.1 Service is unavailable (try later)")], first
    time.sleep(3.5)
    second = gw.send(text_mail("aq"), "x@ext.example", [rcpt], client_ip="192.0.2.20")
    assert second.reply.code == 250 and "queued as" in second.reply.text, second
    gw.wait_settled()
    [delivered] = gw.sink.for_recipient(rcpt)
    assert delivered.header("Subject") == ["aq"]
    log = gw.pool.filter_log()
    assert any("accept mail to <aq@local.example>" in line for line in log), log[-5:]
