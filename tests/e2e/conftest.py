"""Fixtures for the end-to-end tests: a gateway per filtering mode, a rule set, mail builders.

``gateway`` is module-scoped and parametrized over both modes (before- and after-queue), so
each mail-flow test runs through both; tests that change the rules reload the pool (SIGHUP).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest

from pmgfast.rules import store
from pmgfast.rules.model import RuleDB
from tests.e2e.harness import Gateway
from tests.rules import dsl

LOCAL = "local.example"
SENDER = "sender@ext.example"


def rules() -> RuleDB:
    """The rule set of the mail-flow tests: one behaviour per recipient, attachments named
    ``*.exe`` stripped for everybody (as PMG's "Block Dangerous Files")."""
    return dsl.build(
        [
            dsl.rule("block", 90, to=dsl.email(f"blocked@{LOCAL}"), action=dsl.BLOCK),
            dsl.rule("quarantine", 89, to=dsl.email(f"quar@{LOCAL}"), action=dsl.QUARANTINE),
            dsl.rule("strip exe", 88, what=dsl.fname(r".*\.exe"), action=dsl.remove()),
            dsl.rule(
                "tag", 87, to=dsl.email(f"tagged@{LOCAL}"),
                action=dsl.setheader("X-Tagged", "yes __SENDER__"),
            ),
            dsl.rule(
                "archive", 86, to=dsl.email(f"bcc-me@{LOCAL}"),
                action=dsl.bcc(f"archive@{LOCAL}"),
            ),
            dsl.rule(
                "notify", 85, to=dsl.email(f"notify@{LOCAL}"),
                action=dsl.notify(f"admin@{LOCAL}", subject="Seen: __SUBJECT__",
                                  body="Mail from __SENDER__ to __TARGETS__"),
            ),
        ]
    )  # fmt: skip


def install(dsn: str, db: RuleDB) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        store.replace(conn, db)


def text_mail(subject: str = "hello", body: str = "Hello world.\n", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = f"user@{LOCAL}"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@ext.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def mail_with_attachment(filename: str, data: bytes, subject: str = "attachment") -> bytes:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = f"user@{LOCAL}"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@ext.example>"
    msg.set_content("See the attachment.\n")
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return msg.as_bytes()


@pytest.fixture(scope="module")
def e2e_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="pmgfast-e2e-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module", params=["before-queue", "after-queue"])
def gateway(request, pg_server, e2e_root) -> Iterator[Gateway]:
    name = pg_server.create_database()
    dsn = pg_server.socket_dsn(name)
    install(dsn, rules())
    gw = Gateway.start(e2e_root / request.param, dsn, request.param)
    gw.dsn = dsn  # type: ignore[attr-defined]
    yield gw
    gw.stop()
    pg_server.drop_database(name)


@pytest.fixture
def gw(gateway: Gateway) -> Gateway:
    """The module's gateway with an empty sink and an empty queue."""
    gateway.wait_settled()
    gateway.sink.clear()
    return gateway
