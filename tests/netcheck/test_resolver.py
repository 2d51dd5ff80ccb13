"""The resolver layer against real unbound servers: answers by status, the shared TTL cache,
one query for many simultaneous askers, budgets, and a server that never answers (the message
still gets its verdict, cut off by the budget rather than by the per-query timeout)."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.netcheck import Budget, MessageContext, NetworkChecks, Resolver, Status
from pmgfast.netcheck.resolver import parse_nameservers
from tests.dns import UnboundServer, Zone
from tests.netcheck.conftest import LISTED_V4, SENDER_IP, message, run, settings_for, sign


def test_statuses(resolver):
    async def go():
        return await asyncio.gather(
            resolver.query("pass.example", "TXT"),
            resolver.query("pass.example", "A"),
            resolver.query("no-such-name.example", "A"),
            resolver.query("x.slow.example", "A", Budget(0.3)),
            resolver.query("a" * 64 + ".example", "A"),
        )

    txt, nodata, nx, slow, invalid = run(go())
    assert txt.status is Status.OK and txt.texts() == [
        b"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"
    ]
    assert nodata.status is Status.NODATA and nx.status is Status.NXDOMAIN
    assert slow.status is Status.TIMEOUT and slow.temporary
    assert invalid.status is Status.NXDOMAIN and "invalid name" in invalid.detail


def test_cache_hits_and_sharing(resolver):
    async def go():
        answers = await asyncio.gather(*(resolver.query("mx.pass.example", "A") for _ in range(20)))
        again = await resolver.query("MX.Pass.Example.", "A")
        return answers, again

    answers, again = run(go())
    assert all(a.addresses() == [SENDER_IP] for a in answers)
    assert resolver.stats.queries == 1  # one question on the wire for 21 askers
    assert resolver.stats.shared == 19 and resolver.stats.hits == 1
    assert again is answers[0]
    assert resolver.cached("mx.pass.example", "A") is answers[0]


def test_ttl_expiry_and_negative_caching():
    server = UnboundServer.start(Zone(ttl=1).a("short.example", "192.0.2.5"))
    try:
        r = Resolver(server.address, timeout=1.0, negative_ttl=1)

        async def go():
            await r.query("short.example", "A")
            await r.query("gone.example", "A")
            await r.query("short.example", "A")
            await r.query("gone.example", "A")
            first = r.stats.queries
            await asyncio.sleep(1.2)
            await r.query("short.example", "A")
            await r.query("gone.example", "A")
            return first, r.stats.queries

        first, later = run(go())
        assert first == 2 and later == 4
    finally:
        server.stop()


def test_errors_are_not_cached(resolver):
    async def go():
        await resolver.query("x.slow.example", "A", Budget(0.2))
        return resolver.cached("x.slow.example", "A")

    assert run(go()) is None


def test_spent_budget_sends_nothing(resolver):
    budget = Budget(0.0)
    answer = run(resolver.query("pass.example", "TXT", budget))
    assert answer.status is Status.TIMEOUT and resolver.stats.queries == 0


def test_nameserver_syntax():
    assert parse_nameservers("127.0.0.1:5353, [::1]:53 192.0.2.1") == [
        ("127.0.0.1", 5353),
        ("::1", 53),
        ("192.0.2.1", 53),
    ]
    assert parse_nameservers(None) == []
    with pytest.raises(ValueError):
        parse_nameservers("127.0.0.1:0")


@pytest.fixture(scope="module")
def silent_server():
    """A real unbound that drops every query: a DNS server that times out."""
    server = UnboundServer.start(Zone(root="deny"))
    yield server
    server.stop()


def test_dead_server_message_still_gets_a_verdict(silent_server, dns_server):
    raw = sign(message("joe@reject.example"), "reject.example")
    budget = 0.4
    query_timeout = 30.0
    settings = settings_for(dns_server, message_budget=budget, query_timeout=query_timeout)
    checks = NetworkChecks(settings, Resolver(silent_server.address, timeout=query_timeout))
    try:
        ctx = MessageContext(
            client_ip=LISTED_V4,
            helo="mx.pass.example",
            sender="a@pass.example",
            raw=raw,
            uris=["http://evil.example/"],
        )
        started = time.monotonic()
        report = run(checks.check(ctx))
        elapsed = time.monotonic() - started
    finally:
        checks.close()
    # cut off by the message budget, long before a single query's own timeout
    assert elapsed < query_timeout / 2
    assert report.dnsbl is not None and not report.dnsbl.blocked
    assert report.dnsbl.unanswered == ["bl.example", "bl2.example", "wl.example"]
    assert report.uribl is not None and set(report.uribl.unanswered) == {
        "uribl.example",
        "multi.surbl.org",
        "dbl.spamhaus.org",
    }
    # whatever did not finish is named; whatever finished says temperror
    if report.spf is not None:
        assert report.spf.mailfrom.result == "temperror"
    else:
        assert "spf" in report.timed_out
    if report.dkim is not None:
        assert [s.result for s in report.dkim.signatures] == ["temperror"]
    assert report.smtp_reject is None
    assert not [h for h in report.hits if h.name.startswith(("RCVD_IN_", "URIBL_"))]
    assert report.authentication_results.startswith("Authentication-Results: mx.test.example")


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=70), st.sampled_from(["A", "AAAA", "TXT", "MX", "PTR"]))
def test_any_name_is_answered_never_raised(dns_server, name, rdtype):
    async def go():
        return await Resolver(dns_server.address, timeout=0.5).query(name, rdtype)

    answer = run(go())
    assert answer.status in set(Status)
