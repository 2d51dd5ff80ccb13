"""postscreen's site syntax, reply filters, reversed-address labels and Received relays; random
input never crashes (ValueError for a bad configuration line is the only error)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmgfast.netcheck.received import is_internal, relay_ips
from pmgfast.netcheck.sites import parse_sites, reversed_ip
from tests.netcheck.conftest import CORPUS


def test_postscreen_examples():
    entries = parse_sites(
        "zen.spamhaus.org*3 b.barracudacentral.org=127.0.0.[2..11]*2, "
        "bl.spamcop.net list.dnswl.org=127.0.[0..255].0*-2 swl.example=127.0.0.[2;4..5]"
    )
    assert [(e.domain, e.weight) for e in entries] == [
        ("zen.spamhaus.org", 3),
        ("b.barracudacentral.org", 2),
        ("bl.spamcop.net", 1),
        ("list.dnswl.org", -2),
        ("swl.example", 1),
    ]
    barracuda, dnswl, swl = entries[1], entries[3], entries[4]
    assert barracuda.matches("127.0.0.11") and not barracuda.matches("127.0.0.12")
    assert dnswl.matches("127.0.9.0") and not dnswl.matches("127.0.9.1")
    assert swl.matches("127.0.0.4") and not swl.matches("127.0.0.3")
    unfiltered = entries[0]
    assert unfiltered.matches("127.0.0.2") and not unfiltered.matches("127.255.255.254")
    assert not unfiltered.matches("10.0.0.2") and not unfiltered.matches("::1")


@pytest.mark.parametrize(
    "bad",
    ["bl.example=127.0.0", "bl.example=127.0.0.[2..]", "bl.example=127.0.0.300",
     "bl.example*x", "bl.example*1.5", "=127.0.0.2", "bl.example=127.0.0.2;3"],
)  # fmt: skip
def test_bad_entries_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_sites(bad)


def test_float_weights_for_scores():
    assert parse_sites("uribl.example*2.5", integer_weights=False)[0].weight == 2.5


@given(st.text(max_size=60))
def test_any_site_text(text):
    try:
        entries = parse_sites(text)
    except ValueError:
        return
    for entry in entries:
        entry.matches("127.0.0.2")


@given(st.ip_addresses())
def test_reversed_labels(address):
    label = reversed_ip(str(address))
    if address.version == 4:
        assert label == ".".join(reversed(str(address).split(".")))
    elif address.ipv4_mapped is None:
        assert len(label.split(".")) == 32
        nibbles = "".join(reversed(label.split(".")))
        assert ipaddress.IPv6Address(int(nibbles, 16)) == address


def test_relays_from_real_received_chains():
    ham = sorted((CORPUS / "spamassassin" / "ham").iterdir())[:200]
    found = 0
    for path in ham:
        for ip in relay_ips(path.read_bytes()):
            address = ipaddress.ip_address(ip)
            assert not address.is_loopback and not is_internal(ip)
            found += 1
    assert found > 100  # real chains do carry public relays


@given(st.binary(max_size=400))
def test_any_header_bytes(data):
    relay_ips(data)
    relay_ips(b"Received: from x " + data + b"\r\n\r\n")
