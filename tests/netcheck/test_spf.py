"""SPF against the real test server: every result, HELO, the SMTP decision PMG's policy makes,
spam hits, and the Received-SPF header."""

from __future__ import annotations

import pytest

from tests.netcheck.conftest import SENDER_IP, run

CASES = [
    ("user@pass.example", "pass", "SPF_PASS"),
    ("user@fail.example", "fail", "SPF_FAIL"),
    ("user@softfail.example", "softfail", "SPF_SOFTFAIL"),
    ("user@neutral.example", "neutral", "SPF_NEUTRAL"),
    ("user@nospf.example", "none", "SPF_NONE"),
    ("user@x.slow.example", "temperror", "T_SPF_TEMPERROR"),
    ("user@broken.example", "permerror", "T_SPF_PERMERROR"),
]


@pytest.mark.parametrize(("sender", "result", "rule"), CASES)
def test_every_result(checks, sender, result, rule):
    c = checks(query_timeout=0.3)
    outcome = run(c.spf(SENDER_IP, "mx.pass.example", sender))
    assert outcome.mailfrom.result == result
    assert outcome.mailfrom.identity == "mailfrom"
    assert outcome.mailfrom.domain == sender.split("@")[1]
    assert [h.name for h in outcome.hits()] == [rule, "SPF_HELO_PASS"]
    action, text = outcome.smtp_action(enabled=True)
    if result == "fail":
        assert action == "reject" and text
    else:
        assert action == "prepend" and text.lower().startswith(f"received-spf: {result} (")
    assert outcome.smtp_action(enabled=False) == ("dunno", "")


def test_ipv6_client(checks):
    c = checks()
    assert run(c.spf("2001:db8::10", "", "a@pass.example")).mailfrom.result == "pass"
    assert run(c.spf("2001:db8::11", "", "a@pass.example")).mailfrom.result == "fail"


def test_null_sender_uses_helo(checks):
    c = checks()
    outcome = run(c.spf(SENDER_IP, "mx.pass.example", ""))
    assert outcome.mailfrom.identity == "helo" and outcome.mailfrom.result == "pass"
    assert outcome.deciding is outcome.helo
    rejected = run(c.spf("192.0.2.66", "mx.pass.example", ""))
    assert rejected.mailfrom.result == "fail"
    assert rejected.smtp_action()[0] == "reject"


def test_helo_fail_does_not_decide_for_a_real_sender(checks):
    outcome = run(checks().spf("192.0.2.66", "mx.pass.example", "a@nospf.example"))
    assert outcome.helo is not None and outcome.helo.result == "fail"
    assert outcome.mailfrom.result == "none"
    assert outcome.smtp_action()[0] == "prepend"  # PMG: the sender identity decides
    assert {h.name for h in outcome.hits()} == {"SPF_NONE", "SPF_HELO_FAIL"}


def test_received_spf_header(checks):
    outcome = run(checks().spf(SENDER_IP, "mx.pass.example", "a@pass.example"))
    header = outcome.mailfrom.header
    assert header.startswith("Pass (mx.test.example: domain of pass.example designates")
    assert f"client-ip={SENDER_IP}" in header and "envelope-from=" in header


def test_spf_fail_is_an_smtp_reject_only_when_spf_is_on(checks):
    from pmgfast.netcheck import MessageContext

    ctx = MessageContext(client_ip=SENDER_IP, helo="mx.pass.example", sender="a@fail.example")
    assert run(checks().check(ctx)).smtp_reject.startswith("554 5.7.1 ")
    assert run(checks(spf=False).check(ctx)).smtp_reject is None
    whitelisted = MessageContext(**{**ctx.__dict__, "smtp_whitelisted": True})
    report = run(checks().check(whitelisted))
    assert report.smtp_reject is None and "SPF_FAIL" in {h.name for h in report.hits}
