"""``pmgfast track`` on the command line: the table, ``--verbose``, ``--json``, ``--format pmg``
(pmg-log-tracker's output for the same query), the index options and errors."""

from __future__ import annotations

import json

import pytest

from pmgfast import native
from pmgfast.cli import main
from tests.conftest import CORPUS
from tests.tracking.conftest import DATA, GEN_NOW, GEN_START

MILTER = DATA / "pmgfast_milter.log"
RANGE = ["-s", "2023-03-14 09:00:00", "-e", "2023-03-14 11:00:00", "--now", "2023-12-01 00:00:00"]


@pytest.fixture(autouse=True)
def utc(monkeypatch, impl):
    monkeypatch.setenv("TZ", "UTC")
    if impl == "pure":
        monkeypatch.setattr(native, "rust", lambda: None)


def run(capsys, *argv: str) -> str:
    assert main(["track", *argv]) == 0
    return capsys.readouterr().out


def test_table(capsys):
    out = run(capsys, "-i", str(MILTER), *RANGE)
    rows = out.splitlines()
    assert rows[0].split() == ["Time", "From", "To", "Status"]
    assert (
        "2023-03-14 10:00:01  news@example.org        alice@corp.example     accepted/delivered"
        in rows
    )
    assert not any("rejected" in r or "greylisted" in r for r in rows)
    out = run(capsys, "-i", str(MILTER), *RANGE, "--rejected", "--greylisted", "-t", "corp.example")
    assert "greylisted" in out and "rejected" in out


def test_verbose_shows_the_log_lines(capsys):
    out = run(capsys, "-i", str(MILTER), *RANGE, "-v", "-x", "Eicar")
    assert "frank@corp.example" in out and "blocked" in out
    assert "    Mar 14 10:03:01 mx1 pmgfast-milter[3002]: 5A1B2C3D4E5F60003: virus detected" in out


def test_json(capsys):
    doc = json.loads(run(capsys, "-i", str(MILTER), *RANGE, "--json", "-f", "ops@", "--ndr"))
    assert doc["truncated"] is False
    assert [m["id"] for m in doc["mails"]] == ["9E4F3301D5"]
    assert {r["to"]: r["status"] for r in doc["mails"][0]["recipients"]} == {
        "henry@corp.example": "accepted/delivered",
        "ivy@corp.example": "accepted/bounced",
    }
    assert "lines" not in doc["mails"][0]
    doc = json.loads(run(capsys, "-i", str(MILTER), *RANGE, "--json", "-v", "-q", "D38C7745B9"))
    assert doc["mails"][0]["lines"]


def test_limit_reports_truncation(capsys):
    out = run(capsys, "-i", str(MILTER), *RANGE, "-l", "2")
    assert "stopped at 2 rows" in out


def test_format_pmg_is_pmg_log_trackers_output(capsys, monkeypatch):
    """``--format pmg -v --greylisted --ndr`` is pmg-log-tracker ``-vv`` for the same range."""
    monkeypatch.setenv("TZ", "Europe/Vienna")
    pmg = CORPUS / "logs" / "pmg-log-tracker"
    source = str(pmg / "test_input_mixed")
    out = run(
        capsys, "--format", "pmg", "-v", "--greylisted", "--ndr", "-i", source,
        "-s", "2020-12-18 15:40:00", "-e", "2020-12-18 16:00:00", "--now", "2020-12-31 23:59:59",
    )  # fmt: skip
    expected = (pmg / "test_output_after_queue").read_text()
    strip = lambda text: [x for x in text.splitlines() if not x.startswith("# ")]  # noqa: E731
    assert strip(out) == strip(expected)


def test_bad_time_is_one_line(capsys):
    assert main(["track", "-i", str(MILTER), "-s", "last tuesday"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pmgfast track: error: cannot read time 'last tuesday'")


def test_index_options(capsys, generated, tmp_path, impl):
    if impl == "pure":
        assert main(["track", "--index", str(tmp_path), "--update-index"]) == 1
        assert "compiled module" in capsys.readouterr().err
        return
    index = tmp_path / "index"
    base = str(generated / "syslog")
    now = str(GEN_NOW)
    out = run(capsys, "--index", str(index), "--input-base", base, "--now", now, "--update-index")
    assert out.startswith("indexed ")
    assert "segments" in run(capsys, "--index", str(index), "--index-info")
    window = ["-s", str(GEN_START), "-e", str(GEN_START + 86400), "--now", now, "-f", "newsletter@"]
    indexed = run(capsys, "--index", str(index), "--input-base", base, *window, "--json")
    scanned = run(
        capsys, "--no-index", "--index", str(index), "--input-base", base, *window, "--json"
    )
    assert indexed == scanned and json.loads(indexed)["mails"]


def test_the_log_series_defaults_to_the_configured_one(capsys, generated, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "pmg.conf").write_text(f"section: pmgfast\n\ttracking_log {generated / 'syslog'}\n")
    where = ["--state-dir", str(tmp_path / "state"), "--config-dir", str(conf)]
    window = ["-s", str(GEN_START), "-e", str(GEN_START + 86400), "--now", str(GEN_NOW)]
    query = [*window, "-f", "newsletter@", "--json", "--no-index"]
    assert main([*where, "track", *query]) == 0
    configured = capsys.readouterr().out
    explicit = run(capsys, "--input-base", str(generated / "syslog"), *query)
    assert configured == explicit and json.loads(configured)["mails"]
