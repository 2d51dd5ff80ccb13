"""Reading clamd.conf back (socket, stream limit) and clamd addresses."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmgfast.clamav.address import ClamdAddress
from pmgfast.clamav.conf import (
    ClamdConfError,
    parse_clamd_conf,
    parse_size,
    read_clamd_conf,
)
from pmgfast.clamav.protocol import DEFAULT_STREAM_MAX


def test_unix_socket_first_then_tcp():
    conf = parse_clamd_conf(
        "# comment\nTCPSocket 3310\nTCPAddr 127.0.0.1\nLocalSocket /run/clamav/clamd.ctl\n"
        "StreamMaxLength 10M\nDatabaseDirectory /srv/db\n"
    )
    assert conf.address == ClamdAddress.unix("/run/clamav/clamd.ctl")
    assert conf.addresses[1] == ClamdAddress.tcp("127.0.0.1", 3310)
    assert conf.stream_max_length == 10 * 1024 * 1024
    assert conf.database_dir == Path("/srv/db")


def test_option_names_are_case_insensitive_and_defaults_apply():
    conf = parse_clamd_conf("tcpsocket 3310\n")
    assert conf.address == ClamdAddress.tcp("127.0.0.1", 3310)
    assert conf.stream_max_length == DEFAULT_STREAM_MAX


@pytest.mark.parametrize(
    "text",
    ["", "Example\nLocalSocket /x\n", "TCPSocket nope\n", "LocalSocket /x\nStreamMaxLength 1X\n"],
)
def test_unusable_conf_is_an_error_naming_the_file(text):
    with pytest.raises(ClamdConfError, match=r"my\.conf"):
        parse_clamd_conf(text, Path("my.conf"))


def test_missing_file(tmp_path):
    with pytest.raises(ClamdConfError, match="cannot read"):
        read_clamd_conf(tmp_path / "none.conf")


@pytest.mark.parametrize(
    ("text", "size"), [("100", 100), ("1k", 1024), ("25M", 25 * 2**20), ("2G", 2 * 2**30)]
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("unix:/run/clamd.ctl", ClamdAddress.unix("/run/clamd.ctl")),
        ("/run/clamd.ctl", ClamdAddress.unix("/run/clamd.ctl")),
        ("tcp:127.0.0.1:3310", ClamdAddress.tcp("127.0.0.1", 3310)),
        ("localhost:3310", ClamdAddress.tcp("localhost", 3310)),
        ("tcp:[::1]:3310", ClamdAddress.tcp("::1", 3310)),
    ],
)
def test_address_parse_and_print(text, address):
    assert ClamdAddress.parse(text) == address
    assert ClamdAddress.parse(str(address)) == address


@pytest.mark.parametrize("text", ["", "unix:", "nohost", "tcp:host:99999", "tcp:host:x", ":1"])
def test_bad_addresses(text):
    with pytest.raises(ValueError):
        ClamdAddress.parse(text)


@given(st.text(max_size=200))
def test_conf_parser_never_crashes(text):
    try:
        conf = parse_clamd_conf(text)
    except ClamdConfError:
        return
    assert conf.addresses
