"""The RCPT stage inside the milter pool, spoken to through the milter protocol: Postfix is
asked to wait for RCPT answers, a new triple gets 450 with PMG's text, the retry after the
delay passes, trusted sessions are not checked, and an after-queue gate accepts at DATA."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pmgfast.milter import client as mc
from tests.e2e.conftest import LOCAL, SENDER, text_mail
from tests.milter.conftest import PoolUnderTest, start_pool

SMTP_CHECKS = {"mail": {"greylist": "1", "spf": "0"}, "pmgfast": {"greylist_delay": "1"}}


@pytest.fixture(scope="module")
def pool(pg_server) -> Iterator[PoolUnderTest]:
    under_test = start_pool(pg_server, SMTP_CHECKS)
    yield under_test
    under_test.stop()


@pytest.fixture(scope="module")
def aq_pool(pg_server) -> Iterator[PoolUnderTest]:
    extra = {"mail": {**SMTP_CHECKS["mail"], "before_queue_filtering": "0"},
             "pmgfast": SMTP_CHECKS["pmgfast"]}  # fmt: skip
    under_test = start_pool(pg_server, extra)
    yield under_test
    under_test.stop()


def test_rcpt_answers_are_negotiated(pool):
    with pool.connect() as client:
        assert not client.protocol & mc.P_NR_RCPT
        assert client.protocol & mc.P_NR_HDR and client.protocol & mc.P_NR_BODY
        assert client.protocol & mc.P_NR_DATA  # before-queue: no gates


def test_new_triple_is_greylisted_then_passes(pool):
    rcpt = f"grey-milter@{LOCAL}"
    first = pool.send(text_mail("grey"), SENDER, [rcpt])
    assert (first.action, first.reply) == ("reply", "450 4.7.1 Service is unavailable (try later)")
    time.sleep(1.2)
    second = pool.send(text_mail("grey"), SENDER, [rcpt])
    assert second.action == "accept", second


def test_trusted_sessions_are_not_checked(pool):
    sent = pool.send(
        text_mail("out"), f"me@{LOCAL}", ["friend@remote.example"], daemon="pmgfast-out"
    )
    assert sent.action == "accept", sent


def test_after_queue_gate_checks_rcpt_and_accepts_at_data(aq_pool):
    with aq_pool.connect() as client:
        assert not client.protocol & (mc.P_NR_RCPT | mc.P_NR_DATA)
    rcpt = f"gate@{LOCAL}"
    first = aq_pool.send(text_mail("gate"), SENDER, [rcpt], daemon="pmgfast-gate")
    assert first.reply == "450 4.7.1 Service is unavailable (try later)", first
    time.sleep(1.2)
    before = len(aq_pool.seen())
    second = aq_pool.send(text_mail("gate"), SENDER, [rcpt], daemon="pmgfast-gate")
    assert second.action == "accept" and second.modifications == [], second
    assert len(aq_pool.seen()) == before  # the gate never runs the content filter
