"""The greylist key: PMG's sender normalisation and the masked client network."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmgfast.greylist.triple import Triple, network_of, normalize_sender, parse_client


@pytest.mark.parametrize(
    ("sender", "normalised"),
    [
        ("test1@test.domain.tld", "test1@test.domain.tld"),  # digits inside a word stay
        ("bounce-1234-user=example.org@list.example", "bounce-#-user=example.org@list.example"),
        ("user+tag@example.com", "user@example.com"),
        ("User+Tag+More@Example.COM", "user@example.com"),
        ("SRS0=abcd=12=example.net=joe@fwd.example", "srs0=abcd=#=example.net=joe@fwd.example"),
        ("12345@numbers.example", "#@numbers.example"),
        ("a.1.b@x.example", "a.#.b@x.example"),
        ("", ""),
        ("MAILER-DAEMON", "mailer-daemon"),
        ("x@y@z.example", "x@y@z.example"),
    ],
)
def test_sender_normalisation(sender, normalised):
    assert normalize_sender(sender) == normalised


@given(st.text(max_size=80))
def test_normalisation_is_stable_and_never_fails(text):
    once = normalize_sender(text)
    assert normalize_sender(once) == once
    assert once == once.lower()


@pytest.mark.parametrize(
    ("ip", "mask4", "mask6", "network"),
    [
        ("192.0.2.77", 24, 64, "192.0.2.0/24"),
        ("192.0.2.77", 32, 64, "192.0.2.77/32"),
        ("192.0.2.77", 16, 64, "192.0.0.0/16"),
        ("192.0.2.77", 0, 64, "0.0.0.0/0"),
        ("2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64"),
        ("2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6/128"),
        ("::ffff:192.0.2.77", 24, 64, "192.0.2.0/24"),
        ("IPv6:2001:db8::1", 24, 48, "2001:db8::/48"),
    ],
)
def test_networks(ip, mask4, mask6, network):
    address = parse_client(ip)
    assert address is not None
    assert network_of(address, mask4, mask6) == network


@pytest.mark.parametrize("junk", [None, "", "unknown", "999.1.1.1", "[", "1.2.3"])
def test_not_an_address(junk):
    assert parse_client(junk) is None


@given(st.ip_addresses(), st.integers(0, 32), st.integers(0, 128), st.text(), st.text())
def test_triples_always_fit_their_columns(ip, mask4, mask6, sender, receiver):
    t = Triple.make(ip, sender, receiver, mask4, mask6)
    assert len(t.ipnet) <= 49 and len(t.sender) <= 255 and len(t.receiver) <= 255
    assert "\0" not in t.sender + t.receiver
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(t.ipnet)


@given(st.ip_addresses(), st.integers(0, 32), st.integers(0, 128))
def test_network_is_what_ipaddress_computes(ip, mask4, mask6):
    mask = mask4 if ip.version == 4 else mask6
    assert network_of(ip, mask4, mask6) == str(ipaddress.ip_network(f"{ip}/{mask}", strict=False))
