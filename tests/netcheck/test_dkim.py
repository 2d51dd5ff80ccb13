"""DKIM and ARC against the real test server: valid, broken and missing signatures (our own
signatures with the corpus test key, and real signed messages from the corpus with the keys
crymap captured), ed25519, a key lookup that times out, ARC chains, hits and the
Authentication-Results header."""

from __future__ import annotations

import dkim
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.netcheck import MessageContext, Resolver
from pmgfast.netcheck import dkim as netdkim
from tests.netcheck.conftest import CORPUS, SENDER_IP, dkim_key, message, run, sign

CRYMAP = CORPUS / "dkim" / "crymap"


def names(hits):
    return {h.name for h in hits}


def test_valid_signature(checks):
    raw = sign(message("Joe <joe@pass.example>"), "pass.example")
    outcome = run(checks().dkim(raw))
    assert [(s.domain, s.selector, s.result) for s in outcome.signatures] == [
        ("pass.example", "test", "pass")
    ]
    assert outcome.result == "pass"
    hits = names(outcome.hits("pass.example", "pass.example"))
    assert hits == {"DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "DKIM_VALID_EF"}


def test_broken_signature(checks):
    raw = sign(message("joe@pass.example"), "pass.example")
    tampered = raw.replace(b"\r\n\r\n", b"\r\n\r\nP.S. one more line\r\n", 1)
    outcome = run(checks().dkim(tampered))
    assert [s.result for s in outcome.signatures] == ["fail"]
    assert names(outcome.hits("pass.example", None)) == {"DKIM_SIGNED", "DKIM_INVALID"}


def test_missing_signature(checks):
    outcome = run(checks().dkim(message("joe@pass.example")))
    assert outcome.signatures == [] and outcome.result == "none"
    assert outcome.hits("pass.example", None) == []


def test_signature_without_a_published_key(checks):
    raw = sign(message("joe@nospf.example"), "nospf.example")
    outcome = run(checks().dkim(raw))
    assert [(s.result, s.detail) for s in outcome.signatures] == [("permerror", "no key")]


def test_key_lookup_timeout_is_temperror(checks):
    raw = sign(message("joe@x.slow.example"), "x.slow.example")
    outcome = run(checks(query_timeout=0.2).dkim(raw))
    assert [s.result for s in outcome.signatures] == ["temperror"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dkim-yahoo-rsa-sha256.eml", [("yahoo.com", "pass")]),
        ("dkim-lingl-rsa-sha1.eml", [("lin.gl", "pass")]),
        ("rfc-8463.eml", [("football.example.com", "pass"), ("football.example.com", "pass")]),
    ],
)
def test_real_signed_messages_from_the_corpus(checks, name, expected):
    outcome = run(checks().dkim((CRYMAP / name).read_bytes()))
    assert [(s.domain, s.result) for s in outcome.signatures] == expected


def test_revoked_real_key_fails(checks):
    """amazon.co.jp's key was revoked upstream (corpus README): its signature cannot pass,
    the amazonses.com one still verifies."""
    outcome = run(checks().dkim((CRYMAP / "dkim-amazoncojp-2x-rsa-sha256.eml").read_bytes()))
    results = {s.domain: s.result for s in outcome.signatures}
    assert results["amazonses.com"] == "pass"
    assert results["amazon.co.jp"] in ("permerror", "fail")
    assert outcome.result == "pass"


def test_real_message_with_a_changed_body_fails(checks):
    raw = (CRYMAP / "dkim-yahoo-rsa-sha256.eml").read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    sep = b"\r\n\r\n" if b"\r\n\r\n" in raw else b"\n\n"
    outcome = run(checks().dkim(head + sep + body.replace(b"a", b"4", 1)))
    assert [s.result for s in outcome.signatures] == ["fail"]


def arc_seal(raw: bytes, domain: str = "pass.example") -> bytes:
    key, _ = dkim_key()
    authres = f"Authentication-Results: mx.{domain}; spf=pass smtp.mailfrom={domain}\r\n"
    raw = authres.encode() + raw
    headers = dkim.arc_sign(
        raw, b"test", domain.encode(), key, f"mx.{domain}".encode(), timestamp="1700000000"
    )
    return b"".join(headers) + raw


def test_arc_chain_valid_and_broken(checks):
    c = checks()
    sealed = arc_seal(message("joe@other.example"))
    outcome = run(c.dkim(sealed))
    assert outcome.arc.result == "pass" and outcome.arc.instances == 1
    assert names(outcome.hits(None, None)) == {"ARC_SIGNED", "ARC_VALID"}
    broken = sealed.replace(b"\r\n\r\n", b"\r\n\r\nchanged\r\n", 1)
    outcome = run(c.dkim(broken))
    assert outcome.arc.result == "fail"
    assert names(outcome.hits(None, None)) == {"ARC_SIGNED", "ARC_INVALID"}


def test_authentication_results_header(checks):
    raw = sign(message("joe@pass.example"), "pass.example")
    report = run(
        checks().check(
            MessageContext(
                client_ip=SENDER_IP, helo="mx.pass.example", sender="a@pass.example", raw=raw
            )
        )
    )
    header = report.authentication_results
    assert header.startswith("Authentication-Results: mx.test.example;")
    assert "spf=pass smtp.mailfrom=a@pass.example" in header
    assert "dkim=pass header.d=pass.example header.s=test" in header
    assert "dmarc=none" in header  # pass.example publishes no DMARC policy
    assert {"SPF_PASS", "DKIM_VALID_AU", "DKIM_VALID_EF", "DMARC_MISSING"} <= names(report.hits)


def test_dkimpy_corpus_vector_signed_and_verified(checks):
    """dkimpy's own test message, signed with its test key, verifies via our resolver."""
    raw = (CORPUS / "dkim" / "dkimpy" / "test.message").read_bytes()
    outcome = run(checks().dkim(sign(raw, "pass.example")))
    assert outcome.result == "pass"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            [b"DKIM-Signature: ", b"v=1; ", b"d=pass.example; ", b"s=test; ", b"b=", b"bh=",
             b"h=from; ", b"ARC-Seal: i=1; ", b"\r\n", b"\r\n ", b"From: a@b\r\n", b"\r\n\r\n",
             b"a=rsa-sha256; ", b"\x00", b"\xff", b"=", b";"]
        ),
        max_size=40,
    )
)  # fmt: skip
def test_malformed_signatures_never_crash(dns_server, parts):
    raw = b"".join(parts)

    async def go():
        return await netdkim.verify(Resolver(dns_server.address, timeout=0.5), raw)

    outcome = run(go())
    for sig in outcome.signatures:
        assert sig.result in ("pass", "fail", "temperror", "permerror", "neutral")
