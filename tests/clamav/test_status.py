"""``pmgfast virus status`` and ``virus scan``, and the database panel rows."""

from __future__ import annotations

import json
from pathlib import Path

from pmgfast.clamav.database import count_signatures, database_status, read_header
from pmgfast.cli import main
from tests.clamd import ClamdServer, eicar


def cvd(path: Path, build: str, version: int, nsigs: int) -> None:
    header = f"ClamAV-VDB:{build}:{version}:{nsigs}:90:md5sum:signature:builder:1700000000"
    path.write_bytes(header.encode().ljust(512, b" ") + b"\x1f\x8b rest of the archive")


def test_official_and_unofficial_databases(tmp_path: Path):
    cvd(tmp_path / "main.cvd", "16 Sep 2021 08-32 -0400", 62, 6647427)
    (tmp_path / "daily.inc").mkdir()
    cvd(tmp_path / "daily.inc" / "daily.info", "24 Nov 2026 07-21 +0000", 27460, 2080000)
    cvd(tmp_path / "daily.cld", "01 Jan 2020 00-00 +0000", 1, 1)  # the .inc wins, as in PMG
    (tmp_path / "local.hdb").write_text("# mine\nabc:1:One\n\ndef:2:Two\n")
    (tmp_path / "mirrors.dat").write_bytes(b"\0\1")
    rows = {row.name: row for row in database_status(tmp_path)}
    assert set(rows) == {"main", "daily", "local.hdb"}
    assert (rows["main"].version, rows["main"].nsigs) == (62, 6647427)
    assert rows["main"].build_time == "16 Sep 2021 08-32 -0400"
    assert rows["daily"].version == 27460
    assert rows["local.hdb"].type == "unofficial" and rows["local.hdb"].nsigs == 2
    assert count_signatures(tmp_path / "local.hdb") == 2


def test_garbage_is_not_a_database(tmp_path: Path):
    (tmp_path / "main.cvd").write_bytes(b"\0" * 600)
    assert read_header(tmp_path / "main.cvd") is None
    assert database_status(tmp_path) == []
    assert database_status(tmp_path / "missing") == []


def test_status_command(clamd: ClamdServer, capsys):
    conf = ["virus", "--clamd-conf", str(clamd.conf_path)]
    assert main([*conf, "status"]) == 0
    out = capsys.readouterr().out
    assert "running, ClamAV" in out
    assert "pmgfast-test.ndb" in out and "unofficial" in out

    assert main([*conf, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["clamd"]["version"].startswith("ClamAV ")
    names = {row["name"] for row in status["databases"]}
    assert names == {"pmgfast-test.ndb", "clamav-testfiles.hdb", "corpus.hdb"}


def test_status_when_clamd_is_down(tmp_path: Path, capsys):
    server = ClamdServer.create()  # rendered, never started
    try:
        assert main(["virus", "--clamd-conf", str(server.conf_path), "status"]) == 1
        assert "DOWN" in capsys.readouterr().out
    finally:
        server.destroy()


def test_scan_command(clamd: ClamdServer, tmp_path: Path, capsys):
    (tmp_path / "eicar.com").write_bytes(eicar())
    (tmp_path / "fine.txt").write_text("nothing to see\n")
    conf = ["virus", "--clamd-conf", str(clamd.conf_path)]
    assert main([*conf, "scan", str(tmp_path / "fine.txt")]) == 0
    assert main([*conf, "scan", str(tmp_path / "eicar.com"), str(tmp_path / "fine.txt")]) == 1
    out = capsys.readouterr().out
    assert "eicar.com: VIRUS Eicar-Test-Signature.UNOFFICIAL (clamav)" in out
    assert main([*conf, "scan", str(tmp_path / "missing")]) == 2


def test_unreadable_clamd_conf_is_a_plain_error(tmp_path: Path, capsys):
    assert main(["virus", "--clamd-conf", str(tmp_path / "none.conf"), "status"]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_status_reads_the_clamd_conf_named_in_pmg_conf(clamd: ClamdServer, tmp_path: Path, capsys):
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    (config_dir / "pmg.conf").write_text(f"section: pmgfast\n\tclamd_conf {clamd.conf_path}\n")
    base = ["--state-dir", str(tmp_path / "state"), "--config-dir", str(config_dir)]
    assert main([*base, "virus", "status"]) == 0
    assert "running, ClamAV" in capsys.readouterr().out
