"""Fixtures for the SMTP-level tests: a gateway configured by ``pmgfast config sync``, with a
DKIM selector made by ``pmgfast dkim genkey`` and a test DNS zone serving its printed record."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmgfast.dkimsign.keys import record_value
from tests.dns import Zone
from tests.e2e.conftest import install, rules
from tests.smtp.gateway import PMGFAST, SyncedGateway

LOCAL = "local.example"
UNKNOWN = "unknown.local.example"  # relayed to a server that knows no address
OUT = "out.example"  # our own domain, signed outgoing
SELECTOR = "pmg"


def zone(dkim_record: str) -> Zone:
    z = Zone()
    for domain in (LOCAL, UNKNOWN):
        z.add(domain, "MX", f"10 mx.{LOCAL}.")
    z.a(f"mx.{LOCAL}", "192.0.2.200")
    z.a("ext.example", "192.0.2.50").txt("ext.example", "v=spf1 ?all")
    z.a("friend.example", "192.0.2.51").txt("friend.example", "v=spf1 ?all")
    z.a("secure.example", "192.0.2.52").txt("secure.example", "v=spf1 ?all")
    z.a("liar.example", "192.0.2.53").txt("liar.example", "v=spf1 -all")
    z.a("backup.example", "192.0.2.54").add("backup.example", "MX", "10 mx2.backup.example.")
    z.a("mx2.backup.example", "198.51.100.25")
    z.a(OUT, "192.0.2.60")
    z.txt(f"{SELECTOR}._domainkey.{OUT}", record_value(dkim_record))
    return z


@pytest.fixture(scope="module")
def gateway(pg_server) -> Iterator[SyncedGateway]:
    root = Path(tempfile.mkdtemp(prefix="pmgfast-smtp-"))
    root.chmod(0o755)
    config_dir = root / "state" / "etc"
    config_dir.mkdir(parents=True)
    printed = subprocess.run(
        [PMGFAST, "--state-dir", str(root / "state"), "--config-dir", str(config_dir),
         "dkim", "genkey", "--selector", SELECTOR, "--bits", "1024"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    name = pg_server.create_database()
    dsn = pg_server.socket_dsn(name)
    install(dsn, rules())
    gw = SyncedGateway.start(
        root,
        dsn,
        zone(printed),
        extra={"admin": {"dkim_sign": "1", "dkim_selector": SELECTOR}, "mail": {"tls": "1"}},
        lists={
            "domains": f"{LOCAL}\n{UNKNOWN}\n{OUT}\n",
            "transport": UNKNOWN + " smtp:[127.0.0.1]:{reject_port}\n",
            "tls_inbound_domains": "secure.example\n",
            "dkim/domains": f"{OUT}\n",
        },
    )
    gw.dsn = dsn  # type: ignore[attr-defined]
    gw.dkim_record = printed  # type: ignore[attr-defined]
    yield gw
    gw.stop()
    pg_server.drop_database(name)
    shutil.rmtree(root, ignore_errors=True)
