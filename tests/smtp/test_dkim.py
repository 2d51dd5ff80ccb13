"""DKIM signing: keys (size, formats, the printed record), which mail is signed with which
domain, PMG's header list and over-signing, and signatures dkimpy verifies; real corpus mail
and Hypothesis-built headers."""

from __future__ import annotations

import subprocess
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.config import load_all
from pmgfast.dkimsign import (
    DkimKeyError,
    Signer,
    dns_record,
    generate_key,
    load_key,
    signed_headers,
)
from pmgfast.dkimsign.keys import record_value
from pmgfast.dkimsign.signer import from_header_domain
from tests.smtp.gateway import PMGFAST


@pytest.fixture(scope="module")
def keydir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("dkim")
    generate_key(d, "sel", 1024)
    return d


def verify(raw: bytes, keydir: Path, selector: str = "sel") -> bool:
    txt = record_value(dns_record(keydir, selector)[0]).encode()
    return dkim.verify(raw, dnsfunc=lambda name, timeout=5: txt)


def mail(**headers: str) -> bytes:
    msg = EmailMessage()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Hello.\n")
    return msg.as_bytes().replace(b"\n", b"\r\n")


def signer(keydir: Path, **kw) -> Signer:
    key, _ = load_key(keydir, "sel")
    return Signer("sel", key, **kw)


def test_key_size_rules(tmp_path):
    with pytest.raises(DkimKeyError, match="at least 1024"):
        generate_key(tmp_path, "small", 512)
    path = generate_key(tmp_path, "k", 1024)
    assert path == tmp_path / "dkim" / "k.private" and path.stat().st_mode & 0o777 == 0o600
    assert generate_key(tmp_path, "k", 1024) == path  # kept
    with pytest.raises(DkimKeyError, match="different size"):
        generate_key(tmp_path, "k", 2048)
    before = path.read_bytes()
    generate_key(tmp_path, "k", 2048, force=True)
    assert path.read_bytes() != before and load_key(tmp_path, "k")[1] == 2048
    with pytest.raises(DkimKeyError, match="valid DKIM selector"):
        generate_key(tmp_path, "../x", 1024)


def test_pkcs8_keys_from_pmg_are_used(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "dkim").mkdir()
    (tmp_path / "dkim" / "old.private").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )  # fmt: skip
    pem, bits = load_key(tmp_path, "old")
    assert bits == 1024 and pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    raw = Signer("old", pem, sign_all=True).sign(mail(From="a@x.example", To="b@y.example"),
                                                   "a@x.example")  # fmt: skip
    assert verify(raw, tmp_path, "old")


def test_dns_record_in_pmg_layout(keydir):
    record, bits = dns_record(keydir, "sel")
    assert bits == 1024
    assert record.startswith('sel._domainkey\tIN\tTXT\t( "v=DKIM1; h=sha256; k=rsa; "\n\t  "p=')
    assert record.endswith('" )  ; ----- DKIM key sel')
    value = record_value(record)
    assert value.startswith("v=DKIM1; h=sha256; k=rsa; p=MI") and " " not in value.split("p=")[1]
    big = keydir.parent / "big"
    generate_key(big, "b", 4096)
    long_record, _ = dns_record(big, "b")
    pieces = long_record.split('"')[3::2]
    assert all(len(p) <= 255 for p in pieces) and len(pieces) > 2  # one DNS string each


def test_header_list_and_oversigning():
    raw = mail(From="a@x.example", To="b@y.example", Subject="s",
               Date="Mon, 1 Jan 2024 0:0:0 +0000", Message_ID="<1@x>", Received="by somewhere",
               X_Custom="1")  # fmt: skip
    assert signed_headers(raw) == [
        "cc", "content-transfer-encoding", "content-type", "content-type", "date", "from",
        "from", "message-id", "mime-version", "reply-to", "subject", "subject", "to", "to",
    ]  # fmt: skip
    two = mail(From="a@x.example", To="b@y.example").replace(b"To:", b"To: c@z.example\r\nTo:", 1)
    assert signed_headers(two).count("to") == 3
    plain = b"From: a@x.example\r\n\r\nbody\r\n"
    assert "content-type" not in signed_headers(plain)


def test_oversigning_stops_added_headers(keydir):
    s = signer(keydir, sign_all=True)
    signed = s.sign(mail(From="a@x.example", To="b@y.example", Subject="hi"), "a@x.example")
    assert verify(signed, keydir)
    tampered = signed.replace(b"\r\n\r\n", b"\r\nSubject: added\r\n\r\n", 1)
    assert not verify(tampered, keydir)
    cc_added = signed.replace(b"\r\n\r\n", b"\r\nCc: eve@evil.example\r\n\r\n", 1)
    assert not verify(cc_added, keydir)
    other = signed.replace(b"\r\n\r\n", b"\r\nX-Other: fine\r\n\r\n", 1)
    assert verify(other, keydir)  # headers outside the list may be added


def test_signing_domain_choice(keydir):
    raw = mail(From="Boss <boss@sales.corp.example>", To="x@y.example")
    listed = signer(keydir, domains=["corp.example", "sales.corp.example"])
    assert listed.signing_domain("boss@sales.corp.example", raw) == "sales.corp.example"
    assert listed.signing_domain("boss@corp.example", raw) == "corp.example"
    assert listed.signing_domain("boss@eu.corp.example", raw) == "corp.example"
    assert listed.signing_domain("boss@notcorp.example", raw) is None
    assert listed.signing_domain("", raw) is None  # bounces: no envelope domain
    header = signer(keydir, domains=["corp.example"], use_header=True)
    assert header.signing_domain("", raw) == "corp.example"
    everything = signer(keydir, sign_all=True)
    assert everything.signing_domain("x@Any.Example", raw) == "any.example"
    unsigned = listed.sign(raw, "x@other.example")
    assert unsigned == raw


@pytest.mark.parametrize(
    ("from_", "domain"),
    [("a@x.example", "x.example"), ("Name <a@X.Example>", "x.example"),
     ("a@x.example, b@y.example", None), ("", None), ("undisclosed-recipients:;", None)],
)  # fmt: skip
def test_from_header_domain(from_, domain):
    assert from_header_domain(f"From: {from_}\r\n\r\n".encode()) == domain


def test_settings_fall_back_to_relay_domains(tmp_path):
    config_dir = tmp_path / "etc"
    generate_key(config_dir, "s1", 1024)
    (config_dir / "pmg.conf").write_text(
        "section: admin\n\tdkim_sign 1\n\tdkim_selector s1\n\tdkim-use-domain header\n"
    )
    (config_dir / "domains").write_text("relay.example\n")
    s = Signer.from_settings(load_all(config_dir))
    assert s is not None and s.domains == ["relay.example"] and s.use_header and not s.sign_all
    (config_dir / "dkim" / "domains").write_text("signed.example\n")
    assert Signer.from_settings(load_all(config_dir)).domains == ["signed.example"]
    (config_dir / "pmg.conf").write_text("section: admin\n\tdkim_sign 1\n\tdkim_selector nokey\n")
    with pytest.raises(DkimKeyError, match="no such DKIM key"):
        Signer.from_settings(load_all(config_dir))
    (config_dir / "pmg.conf").write_text("section: admin\n\tdkim_sign 0\n\tdkim_selector nokey\n")
    assert Signer.from_settings(load_all(config_dir)) is None


def test_corpus_messages_are_signed_and_verify(keydir, corpus):
    s = signer(keydir, sign_all=True)
    checked = 0
    for path in sorted((corpus / "spamassassin" / "ham").rglob("*"))[:60]:
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if b"\nFrom:" not in b"\n" + raw[:20000] and not raw.startswith(b"From:"):
            continue
        signed = s.sign(raw, "sender@corpus.example")
        if signed is raw:
            continue  # nothing that could be signed (e.g. no From); never an exception
        assert verify(signed, keydir), path
        checked += 1
    assert checked >= 20


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Subject", "To", "Cc", "X-A", "Reply-To", "Date", "Content-Type"]),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
        ),
        max_size=8,
    ),
    st.binary(max_size=300),
)
def test_random_messages_verify_or_are_left_alone(keydir, headers, body):
    head = b"From: a@x.example\r\n" + b"".join(f"{n}: {v}\r\n".encode() for n, v in headers)
    raw = head + b"\r\n" + body.replace(b"\r", b"").replace(b"\n", b"\r\n")
    signed = signer(keydir, sign_all=True).sign(raw, "a@x.example")
    assert signed == raw or verify(signed, keydir)


def test_genkey_command_prints_the_record_and_sets_the_selector(tmp_path):
    base = [PMGFAST, "--state-dir", str(tmp_path / "s"), "--config-dir", str(tmp_path / "etc")]
    out = subprocess.run([*base, "dkim", "genkey", "--selector", "mail2024", "--bits", "2048"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert out.startswith("mail2024._domainkey\tIN\tTXT\t(") and "2048 bits" in out
    assert "dkim_selector mail2024" in (tmp_path / "etc" / "pmg.conf").read_text()
    again = subprocess.run([*base, "dkim", "record"], capture_output=True, text=True, check=True)
    assert again.stdout.strip() == out.splitlines()[0] + "\n" + "\n".join(out.splitlines()[1:-1])
    small = subprocess.run([*base, "dkim", "genkey", "--selector", "x", "--bits", "768"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert small.returncode == 1 and "at least 1024 bits" in small.stderr
    msg = tmp_path / "m.eml"
    msg.write_bytes(mail(From="a@mine.example", To="b@y.example"))
    signed = subprocess.run([*base, "dkim", "sign", str(msg), "--sender", "a@mine.example",
                             "--force"], capture_output=True, check=True).stdout  # fmt: skip
    assert signed.startswith(b"DKIM-Signature:") and verify(signed, tmp_path / "etc", "mail2024")
