"""clamd faults: stopped, restarted, hung. Never a silent accept; recovery without a restart."""

from __future__ import annotations

import os
import signal

import pytest

from pmgfast.clamav import Verdict, assess
from tests.clamav import mails
from tests.clamd import EICAR_NAME, ClamdServer, eicar


@pytest.mark.parametrize("pooled", [True, False], ids=["pooled", "per-message"])
def test_stopped_clamd_is_a_tempfail_then_recovers(own_clamd: ClamdServer, pooled: bool):
    client = own_clamd.client(pooled=pooled)
    assert client.scan(eicar()).name == EICAR_NAME

    own_clamd.stop()
    for mail in (mails.eicar_in_zip(), mails.clean_mail()):
        result = client.scan(mail)
        assert result.verdict is Verdict.ERROR
        finding = assess(result)
        assert finding.tempfail and finding.virus is None
        assert "failed" in finding.log[0] and finding.log[0].endswith(": ERROR")
    assert not client.ping()

    own_clamd.start()  # the same client, no restart of ours
    assert client.scan(mails.eicar_in_zip()).name == EICAR_NAME
    assert client.scan(mails.clean_mail()).verdict is Verdict.CLEAN


def test_clamd_restart_costs_no_tempfail(own_clamd: ClamdServer):
    client = own_clamd.client(pooled=True)
    assert client.scan(eicar()).verdict is Verdict.VIRUS
    own_clamd.restart()  # the pooled session connection is dead now
    result = client.scan(eicar())
    assert result.name == EICAR_NAME
    assert client.stats.retries == 1 and client.stats.errors == 0


@pytest.mark.parametrize("pooled", [True, False], ids=["pooled", "per-message"])
def test_hung_clamd_runs_out_of_budget(own_clamd: ClamdServer, pooled: bool):
    client = own_clamd.client(pooled=pooled)
    assert own_clamd.process is not None
    pid = own_clamd.process.pid
    os.kill(pid, signal.SIGSTOP)  # accepts connections (kernel backlog), never answers
    try:
        result = client.scan(mails.eicar_in_zip(), timeout=0.5)
        assert result.verdict is Verdict.ERROR
        assert result.error is not None and "within 0.5s" in result.error
        assert assess(result).tempfail
    finally:
        os.kill(pid, signal.SIGCONT)
    assert client.scan(mails.eicar_in_zip(), timeout=30).name == EICAR_NAME


def test_fail_open_is_explicit_and_logged(own_clamd: ClamdServer):
    client = own_clamd.client()
    own_clamd.stop()
    finding = assess(client.scan(mails.eicar_in_zip()), fail_open=True)
    assert not finding.tempfail and finding.unscanned
    assert "accepted unscanned (fail-open)" in finding.log[0]
