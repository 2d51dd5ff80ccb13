"""pmgperf prints PMG's lines, in PMG's order and format, with sane values, then its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pmgfast import native, perf, perf_milter, perf_own
from tests.dns import UnboundServer

PMGPERF = str(Path(sys.executable).parent / "pmgperf")
PMG_LABELS = [
    "CPU BOGOMIPS",
    "REGEX/SECOND",
    "HD SIZE",
    "BUFFERED READS",
    "AVERAGE SEEK TIME",
    "FSYNCS/SECOND",
    "DNS EXT",
    "DNS INT",
]


@pytest.fixture(scope="module")
def resolver():
    server = UnboundServer.start(
        ['local-zone: "com." always_nxdomain', 'local-zone: "corp.example." static']
    )
    yield server
    server.stop()


def run_pmgperf(*args: str) -> list[str]:
    result = subprocess.run(
        [PMGPERF, *args, "--pmg-only", "--seconds", "0.3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_every_pmg_line_in_order_with_sane_values(tmp_path, resolver):
    lines = run_pmgperf(
        str(tmp_path), "--nameserver", resolver.address, "--search-domain", "corp.example"
    )
    assert [line[:19].rstrip().rstrip(":") for line in lines] == PMG_LABELS
    values = {line[:19].rstrip().rstrip(":"): line[19:] for line in lines}
    assert float(values["CPU BOGOMIPS"]) > 100
    regex = re.fullmatch(r"(\d+) \(perl, PMG's method: (\d+)\)", values["REGEX/SECOND"])
    assert regex and int(regex.group(1)) > 1000 and int(regex.group(2)) > 1000
    assert re.fullmatch(r"\d+\.\d\d GB \(.+\)", values["HD SIZE"])
    for label in ("BUFFERED READS", "AVERAGE SEEK TIME"):  # root-only, and no raw device here
        assert re.fullmatch(r"\d+\.\d\d (MB/sec|ms)|skipped \(.+\)", values[label]), values[label]
    assert 1 < float(values["FSYNCS/SECOND"]) < 10_000_000
    assert 0 < float(values["DNS EXT"].removesuffix(" ms")) < 1000
    dns_int = re.fullmatch(r"(\d+\.\d\d) ms \(corp\.example\)", values["DNS INT"])
    assert dns_int and 0 < float(dns_int.group(1)) < 1000
    assert list(tmp_path.iterdir()) == []  # the fsync files are cleaned up


def test_dns_is_skipped_with_a_note_without_resolver(tmp_path):
    empty = tmp_path / "resolv.conf"
    empty.write_text("# no nameserver here\n")
    lines = run_pmgperf(str(tmp_path), "--resolv-conf", str(empty))
    assert lines[-2:] == [
        "DNS EXT:           skipped (no resolver configured)",
        "DNS INT:           skipped (no resolver configured)",
    ]


def test_dns_failure_is_reported_not_raised():
    resolver_down = f"127.0.0.1:{_closed_port()}"
    lines = perf.dns_lines(resolver_down, "corp.example", seconds=0.2, timeout=0.3)
    assert lines[0].value == "failed" and "no answer from 127.0.0.1" in lines[0].note


def _closed_port() -> int:
    from tests.pg import free_port

    return free_port()


def test_bogomips_sums_every_cpu(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nbogomips\t: 4000.50\n\nprocessor\t: 1\nBogoMIPS\t: 1000.25\n"
    )
    assert perf.cpu_bogomips(cpuinfo).render() == "CPU BOGOMIPS:      5000.75"


def test_own_lines_measure_the_hot_paths(tmp_path):
    empty = tmp_path / "resolv.conf"
    empty.write_text("")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = subprocess.run(
        [PMGPERF, str(tmp_path), "--resolv-conf", str(empty), "--seconds", "0.2"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert result.returncode == 0, result.stderr
    own = result.stdout.splitlines()[len(PMG_LABELS) :]
    expected_kind = "pure" if native.NO_EXTENSIONS else "native"
    labels = [line[:19].rstrip().rstrip(":") for line in own]
    assert labels == [
        "MIME WALK",
        "BAYES TOKENS/S",
        "RULE EVAL/S",
        "PATTERN MATCH/S",
        "MILTER MSG/S",
    ]
    for line in own:
        value = line[19:].split()[0]
        assert float(value) > 0, line
        assert f"({expected_kind}" in line, line
    assert own[-1].endswith("1 worker, factory rules, local spam tests)")
    assert list(scratch.iterdir()) == []  # the milter pool's directory is removed


def test_milter_pool_that_cannot_start_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(
        perf_milter, "POOL", [sys.executable, "-c", "import sys; sys.exit('no socket here')"]
    )
    line = perf_milter.milter_messages(0.1, perf_own.sample_message())
    assert line.render() == "MILTER MSG/S:      failed (the milter pool exited; no socket here)"
