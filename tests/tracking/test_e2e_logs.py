"""The tracker on the log of pmgfast's own end-to-end gateway (real Postfix + the milter pool,
before- and after-queue; ``tests/e2e/harness.py``): each mail sent shows up once, with the
status of every recipient, from the Rust core and the pure twin alike.

The expected statuses are pinned per recipient: the rules of ``tests/e2e/conftest.py`` block
``blocked@``, quarantine ``quar@`` and accept everyone else.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmgfast.tracking import Query, search
from tests.e2e.conftest import LOCAL, SENDER, install, rules, text_mail
from tests.e2e.harness import Gateway

CASES = {
    # subject: {recipient: status}
    "track accepted": {f"user@{LOCAL}": "accepted/delivered"},
    "track blocked": {f"blocked@{LOCAL}": "blocked"},
    "track mixed": {f"blocked@{LOCAL}": "blocked", f"user@{LOCAL}": "accepted/delivered"},
    "track quarantined": {f"quar@{LOCAL}": "quarantine", f"user@{LOCAL}": "accepted/delivered"},
}


@pytest.fixture(scope="module", params=["before-queue", "after-queue"])
def traffic(request, pg_server) -> Iterator[tuple[Gateway, float]]:
    """A gateway that has handled the mails of CASES."""
    name = pg_server.create_database()
    dsn = pg_server.socket_dsn(name)
    install(dsn, rules())
    root = Path(tempfile.mkdtemp(prefix="pmgfast-e2e-track-"))
    root.chmod(0o755)
    gw = Gateway.start(root / request.param, dsn, request.param)
    started = time.time()
    try:
        for subject, rcpts in CASES.items():
            gw.send(text_mail(subject), SENDER, list(rcpts))
        gw.wait_settled()
        time.sleep(1.0)  # the last lines reach the log file
        yield gw, started
    finally:
        gw.stop()
        pg_server.drop_database(name)
        shutil.rmtree(root, ignore_errors=True)


def test_every_mail_and_recipient_status(traffic, impl):
    gw, started = traffic
    q = Query(
        start=int(started) - 60, end=int(time.time()) + 60, include_rejected=True,
        include_greylisted=True, include_ndr=True, lines=True,
    )  # fmt: skip
    mails = search(q, files=[gw.postfix.maillog], pure=impl == "pure").mails
    by_msgid = {m.msgid: m for m in mails}
    log = gw.postfix.log()
    for subject, want in CASES.items():
        msgid = f"<{subject.replace(' ', '-')}@ext.example>"
        assert msgid in by_msgid, (subject, log)
        mail = by_msgid[msgid]
        assert mail.sender == SENDER
        assert {r.to: r.status for r in mail.recipients} == want, (subject, mail, log)
        assert mail.filter_id and mail.lines
    msgids = {f"<{s.replace(' ', '-')}@ext.example>" for s in CASES}
    ours = [m for m in mails if m.msgid in msgids]
    assert len(ours) == len(CASES), [(m.id, m.qids, m.recipients) for m in ours]


def test_native_and_pure_agree_on_the_gateway_log(traffic, rust_module):
    if rust_module is None:
        return  # pure-only run: the statuses test above covers the twin
    gw, started = traffic
    q = Query(start=int(started) - 60, end=int(time.time()) + 60, include_rejected=True,
              include_ndr=True, lines=True)  # fmt: skip
    assert (
        search(q, files=[gw.postfix.maillog]).mails
        == search(q, files=[gw.postfix.maillog], pure=True).mails
    )
