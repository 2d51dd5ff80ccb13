"""PMG's reading of a ClamAV answer: vinfo, heuristics as spam score, errors as tempfail."""

from __future__ import annotations

from pmgfast.clamav.policy import HEURISTIC_RULE, VINFO_HEADER, assess
from pmgfast.clamav.result import ClamdResult, Verdict


def test_virus_sets_vinfo_log_statistics_and_incoming_header():
    found = assess(ClamdResult(Verdict.VIRUS, name="Eicar-Test-Signature"))
    assert found.virus == "Eicar-Test-Signature (clamav)"
    assert found.virus_name == "Eicar-Test-Signature"
    assert found.statistics_name == "Eicar-Test-Signature (clamav)"
    assert found.log == ("virus detected: Eicar-Test-Signature (clamav)",)
    assert not found.tempfail and found.spam_score == 0
    assert found.headers(trusted=False) == ((VINFO_HEADER, "Eicar-Test-Signature (clamav)"),)
    assert found.headers(trusted=True) == ()


def test_heuristic_is_spam_score_not_virus():
    found = assess(ClamdResult(Verdict.HEURISTIC, name="Heuristics.Encrypted.Zip"))
    assert found.virus is None and found.statistics_name is None
    assert found.heuristic == "Heuristics.Encrypted.Zip"
    assert found.spam_score == 3 and found.spam_rule == HEURISTIC_RULE
    assert (
        assess(ClamdResult(Verdict.HEURISTIC, name="Heuristics.X"), heuristic_score=7).spam_score
        == 7
    )
    assert found.headers(trusted=False) == ()


def test_clean_is_nothing():
    found = assess(ClamdResult(Verdict.CLEAN))
    assert found.virus is None and found.spam_score == 0 and not found.tempfail
    assert found.log == ()


def test_truncated_scan_is_logged():
    found = assess(ClamdResult(Verdict.CLEAN, truncated=True))
    assert "StreamMaxLength" in found.log[0]


def test_error_is_a_tempfail_unless_fail_open():
    failed = ClamdResult.failure("clamd at unix:/x: Connection refused")
    closed = assess(failed)
    assert closed.tempfail and closed.virus is None and not closed.unscanned
    assert closed.log == (
        "virus analyze (clamav) failed: clamd at unix:/x: Connection refused: ERROR",
    )
    opened = assess(failed, fail_open=True)
    assert not opened.tempfail and opened.unscanned
    assert "fail-open" in opened.log[0]
