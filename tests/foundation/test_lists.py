"""The list files beside pmg.conf: domains, mynetworks, transport, tls_policy, ..."""

from __future__ import annotations

import pytest

from pmgfast.config import ConfigError, lists, load_all
from pmgfast.config.lists import TransportEntry


def test_load_all_reads_every_file(tmp_path):
    (tmp_path / "domains").write_text("# relay domains\nexample.com  # main\nExample.ORG\n")
    (tmp_path / "mynetworks").write_text("192.0.2.0/24\n2001:db8::/32 # v6\n10.1.2.3\n")
    (tmp_path / "transport").write_text(
        "example.com smtp:[10.0.0.5]:2525\nexample.org smtp:mx.example.org\n"
        "user@example.net lmtp:mailstore:24\n"
    )
    (tmp_path / "tls_policy").write_text("example.com encrypt\n[10.0.0.5]:2525 verify\n")
    (tmp_path / "tls_inbound_domains").write_text("secure.example\n")
    (tmp_path / "dkim").mkdir()
    (tmp_path / "dkim" / "domains").write_text("example.com\n")
    settings = load_all(tmp_path)
    assert [d.domain for d in settings.domains] == ["example.com", "example.org"]
    assert settings.domains[0].comment == "main"
    assert [n.network for n in settings.mynetworks] == ["192.0.2.0/24", "2001:db8::/32", "10.1.2.3"]
    assert settings.transport == [
        TransportEntry("example.com", "10.0.0.5", "smtp", 2525, use_mx=False),
        TransportEntry("example.org", "mx.example.org", "smtp", 25, use_mx=True),
        TransportEntry("user@example.net", "mailstore", "lmtp", 24, use_mx=False),
    ]
    assert [(p.destination, p.policy) for p in settings.tls_policy] == [
        ("example.com", "encrypt"),
        ("[10.0.0.5]:2525", "verify"),
    ]
    assert [d.domain for d in settings.tls_inbound_domains] == ["secure.example"]
    assert [d.domain for d in settings.dkim_domains] == ["example.com"]


@pytest.mark.parametrize(
    ("listfile", "text", "line", "fragment"),
    [
        (lists.DOMAINS, "ok.example\nbad domain.example\n", 2, "expected one domain"),
        (lists.DOMAINS, "-bad-.example\n", 1, "not a valid domain"),
        (lists.DOMAINS, "a.example\nA.example\n", 2, "listed twice (first on line 1)"),
        (lists.MYNETWORKS, "192.0.2.0/33\n", 1, "not an IP address or network"),
        (lists.TRANSPORT, "example.com smtp:host:99999\n", 1, "out of range"),
        (lists.TRANSPORT, "example.com uucp:host\n", 1, "is not a next hop"),
        (lists.TLS_POLICY, "example.com maybe\n", 1, "is not a TLS policy"),
    ],
)
def test_bad_entries_name_file_and_line(tmp_path, listfile, text, line, fragment):
    with pytest.raises(ConfigError) as caught:
        listfile.parse(text, tmp_path / listfile.name)
    assert str(caught.value).startswith(f"{tmp_path / listfile.name}:{line}: {listfile.name}: ")
    assert fragment in str(caught.value)


def test_save_round_trips(tmp_path):
    entries = lists.TRANSPORT.parse(
        "example.com smtp:[10.0.0.5]:2525 # primary\nexample.org lmtp:store:24\n", "transport"
    )
    lists.TRANSPORT.save(tmp_path, entries)
    assert lists.TRANSPORT.load(tmp_path) == entries
    assert (tmp_path / "transport").read_text() == (
        "example.com smtp:[10.0.0.5]:2525  # primary\nexample.org lmtp:[store]:24\n"
    )
