"""The ClamAV scanner through the pipeline's scanner runner, against a real clamd."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmgfast.clamav.scanner import ClamAVScanner, from_config
from pmgfast.config import pmgconf
from pmgfast.scan import ScanItem, ScannerFailure, run_scanners
from tests.clamav import mails
from tests.clamd import EICAR_NAME, ClamdServer


def item(raw: bytes, tmp_path: Path, trusted: bool = False) -> ScanItem:
    return ScanItem(
        "4F2A1C0D3E5B7A9C", raw, "a@example.org", ("b@example.com",), trusted, "192.0.2.1", tmp_path
    )


def scanner(server: ClamdServer, lines: str = "", fail_open: bool = False) -> ClamAVScanner:
    found = from_config(pmgconf.parse(lines), server.conf_path, fail_open=fail_open)
    assert found is not None
    server.clients.append(found.client)
    return found


def test_virus_becomes_vinfo_and_log_line(clamd: ClamdServer, tmp_path: Path):
    report = run_scanners([scanner(clamd)], item(mails.eicar_in_zip(), tmp_path))
    assert report.virus == f"{EICAR_NAME} (clamav)"
    assert report.virus_scanner == "clamav"
    assert (f"4F2A1C0D3E5B7A9C: virus detected: {EICAR_NAME} (clamav)", False) in report.log
    assert report.score == 0 and "virus" in report.ms


def test_heuristic_adds_the_configured_score(clamd_encrypted: ClamdServer, tmp_path: Path):
    found = scanner(clamd_encrypted, "section: spam\n\tclamav_heuristic_score 4\n")
    report = run_scanners([found], item(mails.eicar_encrypted_zip(), tmp_path))
    assert report.virus is None
    assert report.score == 4
    assert [(h.rule, h.score) for h in report.hits] == [("ClamAVHeuristics", 4.0)]


def test_clean(clamd: ClamdServer, tmp_path: Path):
    report = run_scanners([scanner(clamd)], item(mails.clean_mail(), tmp_path))
    assert report.virus is None and report.score == 0 and report.hits == []


def test_clamd_down_is_a_scanner_failure_then_recovers(own_clamd: ClamdServer, tmp_path: Path):
    found = scanner(own_clamd)
    own_clamd.stop()
    with pytest.raises(ScannerFailure, match="clamav"):
        run_scanners([found], item(mails.eicar_in_zip(), tmp_path))
    own_clamd.start()
    report = run_scanners([found], item(mails.eicar_in_zip(), tmp_path))
    assert report.virus == f"{EICAR_NAME} (clamav)"


def test_fail_open_passes_unscanned_and_logs(own_clamd: ClamdServer, tmp_path: Path):
    found = scanner(own_clamd, fail_open=True)
    own_clamd.stop()
    report = run_scanners([found], item(mails.eicar_in_zip(), tmp_path))
    assert report.virus is None
    assert any("clamav" in line and error for line, error in report.log)


def test_disabled_by_admin_clamav(clamd: ClamdServer):
    assert from_config(pmgconf.parse("section: admin\n\tclamav 0\n"), clamd.conf_path) is None


def test_clamd_conf_from_pmg_conf(clamd: ClamdServer, tmp_path: Path):
    found = from_config(pmgconf.parse(f"section: pmgfast\n\tclamd_conf {clamd.conf_path}\n"))
    assert found is not None
    clamd.clients.append(found.client)
    report = run_scanners([found], item(mails.eicar_attachment(), tmp_path))
    assert report.virus == f"{EICAR_NAME} (clamav)"
