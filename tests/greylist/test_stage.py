"""The RCPT stage: PMG's order of exemptions, SPF and greylisting, with the real greylist
table, the rule set's whitelist, and DNS from a real unbound."""

from __future__ import annotations

import ipaddress

import psycopg
import pytest

from pmgfast.greylist.greylister import Greylister
from pmgfast.greylist.policy import Constants
from pmgfast.greylist.smtpdns import SmtpDns
from pmgfast.greylist.stage import GREYLISTED, RecipientStage, StageSettings
from pmgfast.netcheck import NetSettings
from pmgfast.rules import compile_rules
from pmgfast.rules.model import Group, RuleDB
from pmgfast.rules.objects.who import Domain, EMail, IPNet, Receiver
from tests.dns import UnboundServer, Zone

C = Constants(delay=60)
LOCAL = "local.example"


@pytest.fixture(scope="module")
def dns_server():
    zone = Zone()
    zone.add(LOCAL, "MX", f"10 mx1.{LOCAL}.").add(LOCAL, "MX", "20 backup.isp.example.")
    zone.a(f"mx1.{LOCAL}", "192.0.2.1").a("backup.isp.example", "198.51.100.7", "2001:db8::7")
    zone.txt("good.example", "v=spf1 ip4:203.0.113.0/24 -all")
    zone.txt("liar.example", "v=spf1 -all")
    zone.txt("neutral.example", "v=spf1 ?all")
    zone.timeout("slow.example")
    server = UnboundServer.start(zone)
    yield server
    server.stop()


@pytest.fixture
def dns(dns_server):
    settings = NetSettings(nameservers=dns_server.address, query_timeout=0.5, message_budget=1.0)
    d = SmtpDns(settings)
    yield d
    d.close()


@pytest.fixture
def greylister(pg_dsn):
    g = Greylister(lambda: psycopg.connect(pg_dsn), C)
    yield g
    g.close()


def whitelist():
    db = RuleDB(
        groups=(
            Group(1, "GreyExclusion", "greylist", objects=(
                EMail(id=1, email="friend@ext.example"),
                Domain(id=2, domain="partner.example"),
                IPNet(id=3, cidr="203.0.113.128/25"),
                Receiver(id=4, email=f"postmaster@{LOCAL}"),
            )),
        )
    )  # fmt: skip
    return compile_rules(db)


def stage(greylister, dns=None, **settings):
    return RecipientStage(StageSettings(**settings), greylister, whitelist, dns)


def test_greylisting_defers_then_passes(greylister):
    s = stage(greylister, spf=False)
    rcpt = f"user@{LOCAL}"
    assert s.check("192.0.2.50", "h", "a@ext.example", rcpt, "m1", now=1000) == GREYLISTED
    assert GREYLISTED.temporary and GREYLISTED.code == "450"
    assert s.check("192.0.2.51", "h", "a@ext.example", rcpt, "m2", now=1030) == GREYLISTED
    assert s.check("192.0.2.52", "h", "A@EXT.example", rcpt, "m3", now=1000 + C.delay) is None
    assert s.check("192.0.3.52", "h", "a@ext.example", rcpt, "m4", now=2000) == GREYLISTED


def test_exemptions(greylister):
    s = stage(greylister, spf=False)
    rcpt = f"user@{LOCAL}"
    assert s.check("192.0.2.50", "h", "x@ext.example", rcpt, trusted=True, now=1) is None
    assert s.check("127.0.0.2", "h", "x@ext.example", rcpt, now=1) is None  # trusted network
    assert s.check("::1", "h", "x@ext.example", rcpt, now=1) is None
    assert s.check("192.0.2.50", "h", "Friend@ext.example", rcpt, now=1) is None
    assert s.check("192.0.2.50", "h", "anyone@partner.example", rcpt, now=1) is None
    assert s.check("203.0.113.200", "h", "x@ext.example", rcpt, now=1) is None
    assert s.check("192.0.2.50", "h", "x@ext.example", f"postmaster@{LOCAL}", now=1) is None
    assert s.check(None, "h", "x@ext.example", rcpt, now=1) is None  # not an IP: dunno
    assert s.check("192.0.2.50", "h", "x@ext.example", rcpt, now=1) == GREYLISTED
    networks = (ipaddress.ip_network("198.18.0.0/15"),)
    custom = stage(greylister, spf=False, trusted_networks=networks)
    assert custom.check("198.19.1.1", "h", "y@ext.example", rcpt, now=1) is None


def test_address_family_switches(greylister):
    rcpt = f"user@{LOCAL}"
    v6_off = stage(greylister, spf=False)  # PMG's defaults: greylist on, greylist6 off
    assert v6_off.check("2001:db8:5::9", "h", "x@ext.example", rcpt, now=1) is None
    v6_on = stage(greylister, spf=False, greylist6=True, mask6=48)
    assert v6_on.check("2001:db8:5::9", "h", "x@ext.example", rcpt, now=1) == GREYLISTED
    assert v6_on.check("2001:db8:5:ff::1", "h", "x@ext.example", rcpt, now=2) == GREYLISTED
    with greylister._db._connect() as conn:
        nets = [r[0] for r in conn.execute("SELECT IPNet FROM CGreylist").fetchall()]
    assert nets == ["2001:db8:5::/48"]  # one triple for the whole /48
    v4_off = stage(greylister, spf=False, greylist=False)
    assert v4_off.check("192.0.2.9", "h", "x@ext.example", rcpt, now=1) is None


def test_backup_mx_is_exempt(greylister, dns):
    s = stage(greylister, dns, spf=False)
    rcpt = f"user@{LOCAL}"
    assert s.check("198.51.100.7", "h", "x@ext.example", rcpt, now=1) is None
    assert s.check("2001:db8::7", "h", "x@ext.example", rcpt, now=1) is None
    assert s.check("198.51.100.8", "h", "x@ext.example", rcpt, now=1) == GREYLISTED
    assert dns.mx_addresses(LOCAL) == frozenset({"192.0.2.1", "198.51.100.7", "2001:db8::7"})


def test_spf(greylister, dns, pg_dsn):
    s = stage(greylister, dns, spf=True)
    rcpt = f"user@{LOCAL}"
    refused = s.check("192.0.2.50", "mx.liar.example", "x@liar.example", rcpt, "m1", now=5)
    assert refused is not None and refused.code == "554" and refused.xcode == "5.7.1"
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT Blocked, ExTime FROM CGreylist").fetchone()
    assert row == (100000, 15)
    # pass: no greylisting (pmgpolicy answers 'prepend Received-SPF' first)
    assert s.check("203.0.113.9", "h", "x@good.example", rcpt, "m2", now=5) is None
    # neutral, none and a DNS server that does not answer: greylisting decides
    assert s.check("192.0.2.50", "h", "x@neutral.example", rcpt, "m3", now=5) == GREYLISTED
    assert s.check("192.0.2.50", "h", "x@nospf.example", rcpt, "m4", now=5) == GREYLISTED
    assert s.check("192.0.2.50", "h", "x@slow.example", rcpt, "m5", now=5) == GREYLISTED


def test_whitelisted_sender_skips_spf(greylister, dns):
    s = stage(greylister, dns, spf=True)
    assert s.check("192.0.2.50", "h", "liar@partner.example", f"u@{LOCAL}", now=5) is None


def test_the_table_down_lets_mail_through(dns):
    def down():
        raise psycopg.OperationalError("connection refused")

    g = Greylister(down, C)
    try:
        s = stage(g, spf=False)
        assert s.check("192.0.2.50", "h", "x@ext.example", f"u@{LOCAL}", now=5) is None
    finally:
        g.close()


def test_from_config():
    from pmgfast.config.pmgconf import parse

    conf = parse(
        "section: mail\n\tgreylist 0\n\tgreylist6 1\n\tgreylistmask4 20\n"
        "\tgreylistmask6 56\n\tspf 0\n",
        "pmg.conf",
    )
    s = StageSettings.from_config(conf, ["[2001:db8::]/32", "198.51.100.0/24"])
    assert (s.greylist, s.greylist6, s.mask4, s.mask6, s.spf) == (False, True, 20, 56, False)
    assert ipaddress.ip_network("2001:db8::/32") in s.trusted_networks
    assert ipaddress.ip_network("127.0.0.0/8") in s.trusted_networks
