"""DMARC against the real test server: pass and fail under each policy, DKIM and SPF
alignment (relaxed and strict), subdomain policy, pct sampling, missing record, DNS failure,
the optional SMTP reject; record parsing and author extraction on any input."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmgfast.netcheck import MessageContext
from pmgfast.netcheck.dmarc import evaluate, from_domain, parse_record
from tests.netcheck.conftest import CORPUS, SENDER_IP, message, run, sign


def verdict(checks, from_addr, signer=None, sender="", ip=SENDER_IP, **settings):
    raw = message(from_addr)
    if signer:
        raw = sign(raw, signer)
    c = checks(**settings)
    ctx = MessageContext(client_ip=ip, helo="mx.pass.example", sender=sender, raw=raw)
    return run(c.check(ctx))


def dmarc_hits(report):
    return [h.name for h in report.hits if "DMARC" in h.name]


@pytest.mark.parametrize(
    ("from_addr", "signer", "sender", "result", "policy", "rule"),
    [
        # pass through an aligned DKIM signature, for each policy
        ("a@none.example", "none.example", "", "pass", None, "DMARC_PASS"),
        ("a@quar.example", "quar.example", "", "pass", None, "DMARC_PASS"),
        ("a@reject.example", "reject.example", "", "pass", None, "DMARC_PASS"),
        # relaxed alignment: a subdomain's signature aligns with the organizational domain
        ("a@reject.example", "sub.reject.example", "", "pass", None, "DMARC_PASS"),
        # pass through SPF, relaxed: MAIL FROM mail.quar.example vs From quar.example
        ("a@quar.example", None, "b@mail.quar.example", "pass", None, "DMARC_PASS"),
        # fail under each policy: a valid but unaligned signature, unaligned SPF
        ("a@none.example", "other.example", "b@pass.example", "fail", "none", "DMARC_NONE"),
        ("a@quar.example", "other.example", "", "fail", "quarantine", "DMARC_QUAR"),
        ("a@reject.example", "other.example", "b@fail.example", "fail", "reject", "DMARC_REJECT"),
        # strict alignment: the subdomain signature and SPF domain no longer align
        ("a@strict.example", "sub.strict.example", "", "fail", "reject", "DMARC_REJECT"),
        ("a@strict.example", None, "b@mail.strict.example", "fail", "reject", "DMARC_REJECT"),
        ("a@strict.example", "strict.example", "", "pass", None, "DMARC_PASS"),
        # the organizational record's sp= applies to a subdomain without its own record
        ("a@news.reject.example", None, "", "fail", "quarantine", "DMARC_QUAR"),
        # pct=0: the failure is outside the sample, so p=reject is applied as quarantine
        ("a@pct.example", None, "", "fail", "quarantine", "DMARC_QUAR"),
        # no policy anywhere
        ("a@nospf.example", None, "", "none", None, "DMARC_MISSING"),
    ],
)
def test_policy_outcomes(checks, from_addr, signer, sender, result, policy, rule):
    report = verdict(checks, from_addr, signer, sender)
    assert report.dmarc is not None
    assert (report.dmarc.result, report.dmarc.policy) == (result, policy)
    assert dmarc_hits(report) == [rule]
    assert f"dmarc={result}" in report.authentication_results


def test_dns_failure_is_temperror(checks):
    report = verdict(checks, "a@slowdmarc.example", query_timeout=0.3)
    assert report.dmarc is not None and report.dmarc.result == "temperror"
    assert dmarc_hits(report) == ["T_DMARC_TEMPERROR"]


def test_reject_at_smtp_time_only_when_enabled(checks):
    args = ("a@reject.example", "other.example", "b@nospf.example")
    assert verdict(checks, *args).smtp_reject is None
    report = verdict(checks, *args, dmarc_reject=True)
    assert report.smtp_reject is not None and "DMARC policy of reject.example" in report.smtp_reject
    quarantined = verdict(checks, "a@quar.example", "other.example", dmarc_reject=True)
    assert quarantined.smtp_reject is None


def test_several_authors_are_not_evaluated(checks):
    raw = message("a@reject.example, b@none.example")
    report = run(checks().check(MessageContext(raw=raw)))
    assert report.dmarc is not None and report.dmarc.result == "permerror"
    assert dmarc_hits(report) == []


def test_record_parsing():
    r = parse_record(b"v=DMARC1; p=Reject; sp=none; adkim=s; pct=30", "x.example")
    assert r is not None and (r.p, r.sp, r.adkim, r.aspf, r.pct) == ("reject", "none", "s", "r", 30)
    assert parse_record("v=DMARC1; p=bogus; rua=mailto:a@x.example", "x").p == "none"
    assert parse_record("v=DMARC1; p=bogus", "x") is None
    assert parse_record("v=spf1 -all", "x") is None
    assert parse_record("p=reject; v=DMARC1", "x") is None
    assert parse_record("v=DMARC1; p=quarantine", "x").sp == "quarantine"


def test_pct_samples_with_the_given_random():
    record = parse_record("v=DMARC1; p=reject; pct=50", "x.example")
    policies = {
        evaluate("x.example", record, None, None, [], random.Random(seed)).policy
        for seed in range(40)
    }
    assert policies == {"reject", "quarantine"}


def test_author_domain_of_every_corpus_dmarc_message():
    files = sorted((CORPUS / "dmarc").rglob("*.eml"))
    assert len(files) == 34
    for path in files:
        domain, why = from_domain(path.read_bytes())
        assert domain and "." in domain, (path.name, why)


@given(st.binary(max_size=300))
def test_any_record_and_header_bytes_are_handled(data):
    parse_record(data, "x.example")
    from_domain(data)
    from_domain(b"From: " + data + b"\r\n\r\nbody")
