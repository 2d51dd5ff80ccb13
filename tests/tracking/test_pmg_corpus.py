"""pmg-log-tracker's own expected outputs (corpus logs/pmg-log-tracker): our ``pmg-log-tracker``
must print them line for line, ignoring only the content of ``# `` lines (upstream's rule).

"Now" is pinned the way upstream pins it, with ``faketime`` around the installed command; the
in-process runs pin it by argument. Both the Rust core and the pure twin are checked.
"""

from __future__ import annotations

import csv
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pmgfast.tracking import pmglt
from pmgfast.tracking.twin.stamps import Civil, Zone, timegm
from tests.conftest import CORPUS


def cases(corpus_dir: Path) -> list[dict[str, str]]:
    with open(corpus_dir / "cases.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def compare_output(expected: bytes, got: bytes) -> None:
    """upstream tests/utils.rs: the same number of lines; ``# `` lines only at the same places;
    every other line byte-equal."""
    e = expected.split(b"\n")
    g = got.split(b"\n")
    assert len(e) == len(g), got.decode("utf-8", "replace")
    for i, (a, b) in enumerate(zip(e, g, strict=True)):
        if a.startswith(b"# ") and b.startswith(b"# "):
            continue
        assert a == b, f"line {i + 1}: {b!r} != expected {a!r}"


def local_now(text: str, zone: Zone) -> int:
    date, clock = text.split(" ")
    y, mo, d = (int(x) for x in date.split("-"))
    h, mi, s = (int(x) for x in clock.split(":"))
    c = Civil(y, mo - 1, d, h, mi, s)
    epoch = zone.to_epoch(c)
    return epoch if epoch is not None else timegm(c)


CORPUS_CASES = [c["case"] for c in cases(CORPUS / "logs" / "pmg-log-tracker")]


@pytest.mark.parametrize("case", CORPUS_CASES)
def test_in_process_output_matches(case, impl, pmg_corpus, monkeypatch):
    row = next(c for c in cases(pmg_corpus) if c["case"] == case)
    monkeypatch.setenv("TZ", row["tz"])
    zone = Zone.from_tz_value(row["tz"])
    argv = [*shlex.split(row["args"]), "-i", str(pmg_corpus / Path(row["input"]).name)]
    prepared = pmglt.prepare(argv, zone, local_now(row["faketime"], zone))
    assert not isinstance(prepared, str)
    got = prepared.header + pmglt.run(prepared.query, zone, pure=impl == "pure")
    expected = (pmg_corpus / Path(row["expected_output"]).name).read_bytes()
    compare_output(expected, got)


@pytest.mark.parametrize("case", CORPUS_CASES)
@pytest.mark.parametrize("pure", [False, True], ids=["native", "pure"])
def test_installed_command_under_faketime(case, pure, pmg_corpus, rust_module):
    """As upstream runs it: ``faketime "<now>" pmg-log-tracker <args> -i <input>``."""
    if not pure and rust_module is None:
        return  # PMGFAST_NO_EXTENSIONS=1: the pure run below covers the command
    faketime = shutil.which("faketime")
    assert faketime, "faketime is needed (Debian package 'faketime'), as for upstream's tests"
    command = Path(sys.executable).parent / "pmg-log-tracker"
    assert command.exists(), "install the entry point: pip install -e . --no-build-isolation"
    row = next(c for c in cases(pmg_corpus) if c["case"] == case)
    env = {**os.environ, "TZ": row["tz"]}
    env.pop("PMGFAST_NOW", None)
    if pure:
        env["PMGFAST_NO_EXTENSIONS"] = "1"
    argv = [faketime, row["faketime"], str(command), *shlex.split(row["args"])]
    argv += ["-i", str(pmg_corpus / Path(row["input"]).name)]
    done = subprocess.run(argv, env=env, capture_output=True, check=True, timeout=60)
    assert done.stderr == b""
    expected = (pmg_corpus / Path(row["expected_output"]).name).read_bytes()
    compare_output(expected, done.stdout)


def test_header_names_the_query(pmg_corpus):
    zone = Zone.from_tz_value("Europe/Vienna")
    argv = ["-v", "-s", "1608300000", "-e", "1608302400", "-f", "a@b", "-t", "c", "-h", "host"]
    argv += ["-m", "<m@x>", "-q", "ABCDEF1234", "-q", "T5FDCB6DFL00000000", "-x", "reJECT"]
    prepared = pmglt.prepare(argv, zone, 1609455599)
    assert not isinstance(prepared, str)
    lines = prepared.header.decode().splitlines()
    assert lines[0].startswith("# LogReader: ")
    assert lines[1:] == [
        "# Query options",
        "# Sender: a@b",
        "# Recipient: c",
        "# Server: host",
        "# MsgID: <m@x>",
        "# QID: ABCDEF1234",
        "# QID: T5FDCB6DFL00000000",
        "# Match: reJECT",
        "# Start: 2020-12-18 15:00:00 (1608300000)",
        "# End: 2020-12-18 15:40:00 (1608302400)",
        "# End Query Options",
        "",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-s", "yesterday"], "failed to parse start time"),
        (["-e", "soon"], "failed to parse end time"),
        (["-s", "1608302400", "-e", "1608300000"], "end time before start time"),
        (["--bogus"], "Found invalid arguments"),
        (["-l", "many"], "invalid limit"),
        (["-s"], "missing a value"),
    ],
)
def test_bad_arguments_are_errors_not_crashes(argv, message):
    with pytest.raises(pmglt.TrackingError, match=message):
        pmglt.prepare(argv, Zone.from_tz_value("UTC"), 1609455599)


def test_flags_combine_and_repeat():
    a = pmglt.parse_args(["-vv", "-gn", "-q", "A", "--queue-id=B", "--input-base=/x"])
    assert a.flags == {"v": 2, "g": 1, "n": 1}
    assert a.values == {"qid": ["A", "B"], "base": ["/x"]}
    assert "pmg-log-tracker" in str(pmglt.prepare(["--help"], Zone.from_tz_value("UTC"), 0))


def test_limit_prints_status_and_stops(impl, pmg_corpus):
    zone = Zone.from_tz_value("Europe/Vienna")
    argv = ["-s", "1608300000", "-e", "1608307200", "-l", "2"]
    argv += ["-i", str(pmg_corpus / "test_input_mixed")]
    prepared = pmglt.prepare(argv, zone, 1609455599)
    assert not isinstance(prepared, str)
    body = pmglt.run(prepared.query, zone, pure=impl == "pure")
    assert body.endswith(b"STATUS: aborted by limit (too many hits)\n")
    assert body.count(b"TO:") == 2


def test_missing_input_file_gives_an_empty_result(impl, tmp_path):
    zone = Zone.from_tz_value("UTC")
    prepared = pmglt.prepare(["-s", "0", "-i", str(tmp_path / "nope")], zone, 1609455599)
    assert not isinstance(prepared, str)
    assert pmglt.run(prepared.query, zone, pure=impl == "pure") == b""
