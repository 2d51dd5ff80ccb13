"""One real unbound for the network tests, serving the zones below, and message builders.

Zones (all on 127.0.0.1, nothing leaves the machine):

* DNSBLs ``bl.example`` (127.0.0.2), ``bl2.example`` (127.0.0.10 and .3), the allowlist
  ``wl.example``, and SpamAssassin's well-known names (``zen.spamhaus.org``) for the rule map;
* URI lists ``uribl.example``, ``multi.surbl.org`` (bit masks), ``dbl.spamhaus.org``;
* SPF records for every result, DKIM keys (dkimpy's test key from the corpus, and the real
  keys crymap captured in ``dkim/crymap/DNS-KEYS.txt``), DMARC records for each policy;
* ``*.slow.example`` and ``_dmarc.slowdmarc.example`` never answer (unbound drops them).
"""

from __future__ import annotations

import asyncio
import email.utils
import re
from pathlib import Path

import dkim
import pytest

from pmgfast.netcheck import NetSettings, NetworkChecks, Resolver
from pmgfast.netcheck.sites import parse_sites, reversed_ip
from tests.dns import UnboundServer, Zone

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
LISTED_V4 = "192.0.2.99"
LISTED_V6 = "2001:db8::99"
ONLY_BL2 = "192.0.2.98"
ALLOWLISTED = "192.0.2.77"
CLEAN_V4 = "192.0.2.1"
CLEAN_V6 = "2001:db8::1"
SENDER_IP = "192.0.2.10"  # the address the SPF records allow


def dkim_key() -> tuple[bytes, str]:
    """dkimpy's test signing key from the corpus and its public TXT record."""
    key = (CORPUS / "dkim" / "dkimpy" / "test.private").read_bytes()
    record = (CORPUS / "dkim" / "dkimpy" / "test.txt").read_text().strip()
    return key, record


def crymap_keys() -> list[tuple[str, str]]:
    """(name, TXT) pairs from DNS-KEYS.txt: a ``; name, date`` comment, then the record."""
    pairs, name = [], None
    for line in (CORPUS / "dkim" / "crymap" / "DNS-KEYS.txt").read_text().splitlines():
        if line.startswith(";"):
            match = re.match(r";\s*(\S+\._domainkey\.[^\s,]+)", line)
            name = match.group(1) if match else None
        elif line.strip() and name:
            pairs.append((name, line.strip()))
            name = None
    return pairs


def build_zone() -> Zone:
    zone = Zone(ttl=300)
    # DNS blocklists
    for ip in (LISTED_V4, LISTED_V6, ALLOWLISTED):
        zone.a(f"{reversed_ip(ip)}.bl.example", "127.0.0.2")
    zone.a("2.0.0.127.bl.example", "127.0.0.2")
    for ip in (LISTED_V4, ONLY_BL2):
        zone.a(f"{reversed_ip(ip)}.bl2.example", "127.0.0.10", "127.0.0.3")
    zone.a(f"{reversed_ip(ALLOWLISTED)}.wl.example", "127.0.0.2")
    zone.a(f"{reversed_ip(LISTED_V4)}.zen.spamhaus.org", "127.0.0.2", "127.0.0.11")
    zone.a("45.100.51.198.zen.spamhaus.org", "127.0.0.2")  # a relay in a Received header
    # URI blocklists
    zone.a("evil.example.uribl.example", "127.0.0.2")
    zone.a("phish.example.multi.surbl.org", "127.0.0.8")
    zone.a("both.example.multi.surbl.org", "127.0.0.24")
    zone.a(f"{reversed_ip('203.0.113.7')}.multi.surbl.org", "127.0.0.64")
    zone.a("spammy.example.dbl.spamhaus.org", "127.0.1.2")
    # SPF, one domain per result
    allow = "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"
    zone.txt("pass.example", allow)
    zone.txt("fail.example", "v=spf1 -all")
    zone.txt("softfail.example", "v=spf1 ~all")
    zone.txt("neutral.example", "v=spf1 ?all")
    zone.a("nospf.example", "192.0.2.200")
    zone.txt("broken.example", "v=spf1 frobnicate:example.org -all")
    zone.timeout("slow.example")
    zone.txt("mx.pass.example", "v=spf1 a -all").a("mx.pass.example", SENDER_IP)
    # DKIM keys: dkimpy's test key under our own names, crymap's captured real keys
    _, record = dkim_key()
    for domain in ("pass.example", "none.example", "quar.example", "reject.example",
                   "other.example", "sub.strict.example", "strict.example", "pct.example",
                   "sub.reject.example"):  # fmt: skip
        zone.txt(f"test._domainkey.{domain}", record)
    for name, text in crymap_keys():
        zone.txt(name, text)
    # DMARC policies
    zone.txt("_dmarc.none.example", "v=DMARC1; p=none")
    zone.txt("_dmarc.quar.example", "v=DMARC1; p=quarantine; rua=mailto:d@quar.example")
    zone.txt("_dmarc.reject.example", "v=DMARC1; p=reject; sp=quarantine")
    zone.txt("_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s")
    zone.txt("_dmarc.pct.example", "v=DMARC1; p=reject; pct=0")
    zone.txt("mail.quar.example", allow)
    zone.txt("mail.strict.example", allow)
    zone.timeout("_dmarc.slowdmarc.example")
    zone.txt("slowdmarc.example", allow)
    return zone


@pytest.fixture(scope="session")
def dns_server():
    server = UnboundServer.start(build_zone())
    yield server
    server.stop()


def settings_for(server: UnboundServer, **overrides) -> NetSettings:
    values = dict(
        nameservers=server.address,
        query_timeout=2.0,
        message_budget=5.0,
        dnsbl_sites=parse_sites("bl.example*2, bl2.example=127.0.0.[10..11], wl.example*-3"),
        dnsbl_threshold=2,
        rbl_sites=parse_sites("zen.spamhaus.org, bl.example*1.5", integer_weights=False),
        uribl_sites=parse_sites(
            "uribl.example*2.5, multi.surbl.org, dbl.spamhaus.org", integer_weights=False
        ),
        authserv_id="mx.test.example",
    )
    values.update(overrides)
    return NetSettings(**values)


@pytest.fixture
def checks(dns_server):
    made: list[NetworkChecks] = []

    def make(**overrides) -> NetworkChecks:
        made.append(NetworkChecks(settings_for(dns_server, **overrides)))
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture
def resolver(dns_server) -> Resolver:
    return Resolver(dns_server.address, timeout=2.0)


def run(coro):
    return asyncio.run(coro)


def ham_body(index: int = 0) -> bytes:
    """The body of a real ham message from the corpus (index picks one, stably)."""
    files = sorted((CORPUS / "spamassassin" / "ham").iterdir())
    raw = files[index % len(files)].read_bytes()
    return raw.split(b"\n\n", 1)[1] if b"\n\n" in raw else b"Hello.\n"


def message(from_addr: str, body: bytes | None = None, subject: str = "test", **headers) -> bytes:
    """A plain message (CRLF) with the given author, a corpus body unless given."""
    lines = [
        f"From: {from_addr}",
        "To: rcpt@recipient.example",
        f"Subject: {subject}",
        f"Date: {email.utils.format_datetime(email.utils.localtime())}",
        f"Message-ID: <{abs(hash((from_addr, subject)))}@test.example>",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
    ]
    text = "\r\n".join(lines).encode() + b"\r\n\r\n"
    payload = body if body is not None else ham_body()
    return text + payload.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def sign(raw: bytes, domain: str, selector: str = "test") -> bytes:
    """``raw`` with a DKIM signature of ``domain`` by the corpus test key prepended."""
    key, _ = dkim_key()
    header = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        key,
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return header + raw
