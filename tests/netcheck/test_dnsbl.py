"""DNSBL against the real test server: listed/unlisted IPv4 and IPv6, weights and threshold,
the SMTP welcomelist, RCVD_IN_* scores for the client and untrusted relays."""

from __future__ import annotations

from pmgfast.netcheck import MessageContext
from tests.netcheck.conftest import (
    ALLOWLISTED,
    CLEAN_V4,
    CLEAN_V6,
    LISTED_V4,
    LISTED_V6,
    ONLY_BL2,
    message,
    run,
)


def test_listed_ipv4_reaches_threshold(checks):
    verdict = run(checks().dnsbl(LISTED_V4))
    assert verdict.sites == ["bl.example", "bl2.example"]
    assert verdict.score == 3  # bl.example*2 + bl2.example (weight 1, reply filter matched)
    assert verdict.blocked
    assert verdict.listings[1].replies == ("127.0.0.10",)  # .3 is outside the filter
    assert "blocked using bl.example, bl2.example" in verdict.reply_text()


def test_listed_ipv6_uses_nibbles(checks):
    verdict = run(checks().dnsbl(LISTED_V6))
    assert verdict.sites == ["bl.example"]
    assert verdict.score == 2 and verdict.blocked


def test_unlisted_ipv4_and_ipv6(checks):
    c = checks()
    for ip in (CLEAN_V4, CLEAN_V6):
        verdict = run(c.dnsbl(ip))
        assert verdict.listings == [] and verdict.score == 0 and not verdict.blocked
        assert verdict.unanswered == []


def test_weight_below_threshold_is_listed_not_blocked(checks):
    verdict = run(checks().dnsbl(ONLY_BL2))
    assert verdict.sites == ["bl2.example"] and verdict.score == 1
    assert not verdict.blocked
    assert run(checks(dnsbl_threshold=1).dnsbl(ONLY_BL2)).blocked


def test_negative_weight_of_an_allowlist(checks):
    verdict = run(checks().dnsbl(ALLOWLISTED))
    assert verdict.sites == ["bl.example", "wl.example"]
    assert verdict.score == -1 and not verdict.blocked


def test_threshold_reached_exactly_blocks(checks):
    assert run(checks(dnsbl_threshold=3).dnsbl(LISTED_V4)).blocked
    assert not run(checks(dnsbl_threshold=4).dnsbl(LISTED_V4)).blocked


def test_not_an_address_is_not_looked_up(checks):
    verdict = run(checks().dnsbl("unknown"))
    assert verdict.listings == [] and not verdict.blocked


def test_smtp_whitelist_exempts_from_blocking(checks):
    c = checks()
    blocked = run(c.check(MessageContext(client_ip=LISTED_V4)))
    assert blocked.smtp_reject is not None and "bl.example" in blocked.smtp_reject
    exempt = run(c.check(MessageContext(client_ip=LISTED_V4, smtp_whitelisted=True)))
    assert exempt.dnsbl is None and exempt.smtp_reject is None
    # the spam scores still see the listing (PMG: the whitelist only skips SMTP checks)
    assert {"RCVD_IN_SBL", "RCVD_IN_PBL"} <= {h.name for h in exempt.hits}


def test_rbl_scores_use_spamassassin_names(checks):
    hits = {h.name: h for h in run(checks().rbl(LISTED_V4))}
    assert set(hits) == {"RCVD_IN_SBL", "RCVD_IN_PBL", "RCVD_IN_BL_EXAMPLE"}
    assert hits["RCVD_IN_SBL"].score > 0
    assert hits["RCVD_IN_BL_EXAMPLE"].score == 1.5  # an unknown list scores its weight
    assert f"[{LISTED_V4} listed in zen.spamhaus.org]" in hits["RCVD_IN_PBL"].description


def test_untrusted_received_hop_is_checked_for_every_hop_rules(checks):
    raw = message(
        "a@nospf.example",
        Received="from relay.example (relay.example [198.51.100.45]) by mx.test.example",
    )
    raw = (
        b"Received: from inside (inside [10.1.2.3]) by gw\r\n"
        b"Received: from x (x [198.51.100.45]) by inside\r\n" + raw
    )
    report = run(checks().check(MessageContext(client_ip=CLEAN_V4, raw=raw)))
    names = {h.name: h for h in report.hits}
    # SBL is checked on every untrusted relay; PBL (last external only) is not
    assert "RCVD_IN_SBL" in names and "198.51.100.45" in names["RCVD_IN_SBL"].description
    assert "RCVD_IN_PBL" not in names


def test_rbl_checks_off(checks):
    report = run(checks(rbl_checks=False).check(MessageContext(client_ip=LISTED_V4)))
    assert not [h for h in report.hits if h.name.startswith("RCVD_IN_")]
    assert report.dnsbl is not None and report.dnsbl.blocked  # postscreen's test still runs
