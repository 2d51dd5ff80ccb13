"""NetSettings from a real pmg.conf: PMG's keys and the pmgfast section's network keys."""

from __future__ import annotations

import pytest

from pmgfast.config.pmgconf import parse
from pmgfast.netcheck import NetSettings
from pmgfast.netcheck.checks import DEFAULT_URIBL_SITES


def test_defaults():
    s = NetSettings.from_config(parse(""), authserv_id="mx.example")
    assert s.nameservers is None and s.query_timeout == 2.0 and s.message_budget == 5.0
    assert s.dnsbl_sites == () and s.dnsbl_threshold == 1 and s.spf and s.rbl_checks
    assert [e.domain for e in s.uribl_sites] == [d.strip() for d in DEFAULT_URIBL_SITES.split(",")]
    assert s.rbl_sites is None and s.scoring_sites == s.dnsbl_sites
    assert not s.dmarc_reject and s.authserv_id == "mx.example"


def test_configured():
    conf = parse(
        "section: mail\n"
        "\tdnsbl_sites zen.spamhaus.org*2,bl.example=127.0.0.[2..4]\n"
        "\tdnsbl_threshold 3\n"
        "\tspf 0\n"
        "section: spam\n"
        "\trbl_checks 0\n"
        "section: pmgfast\n"
        "\tdns_nameservers 127.0.0.1:5353\n"
        "\tdns_timeout_ms 300\n"
        "\tdns_budget_ms 900\n"
        "\trbl_sites list.example*-1.5\n"
        "\turibl_sites \n"
        "\tdmarc_reject 1\n"
    )
    s = NetSettings.from_config(conf, trusted_networks=["192.0.2.0/24"])
    assert [(e.domain, e.weight) for e in s.dnsbl_sites] == [
        ("zen.spamhaus.org", 2),
        ("bl.example", 1),
    ]
    assert s.dnsbl_threshold == 3 and not s.spf and not s.rbl_checks
    assert s.nameservers == "127.0.0.1:5353" and s.query_timeout == 0.3 and s.message_budget == 0.9
    assert [(e.domain, e.weight) for e in s.scoring_sites] == [("list.example", -1.5)]
    assert s.uribl_sites == () and s.dmarc_reject
    assert str(s.trusted_networks[0]) == "192.0.2.0/24"


def test_bad_site_list_names_the_entry():
    conf = parse("section: mail\n\tdnsbl_sites bl.example=127.0.0\n")
    with pytest.raises(ValueError, match=r"bl\.example=127\.0\.0"):
        NetSettings.from_config(conf)
