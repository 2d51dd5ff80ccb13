"""Fixtures of the tracking tests: which implementations to run, the corpus logs, small
generated logs (bench/loggen.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import loggen
from pmgfast import native

#: The twin always runs; the Rust core unless PMGFAST_NO_EXTENSIONS=1 (then the suite is pure).
IMPLS = ["pure"] if native.NO_EXTENSIONS else ["native", "pure"]
DATA = Path(__file__).resolve().parents[2] / "tracking" / "tests" / "data"

#: 2024-03-11 00:00:00 UTC, the first day loggen writes; "now" for its logs is a month later.
GEN_START = 1710115200
GEN_NOW = GEN_START + 30 * 86400


@pytest.fixture(params=IMPLS)
def impl(request, rust_module) -> str:
    """``"native"`` or ``"pure"``; a missing native build fails (rust_module raises)."""
    return request.param


@pytest.fixture(scope="session")
def pmg_corpus(corpus) -> Path:
    return corpus / "logs" / "pmg-log-tracker"


@pytest.fixture(scope="session")
def generated() -> Iterator[Path]:
    """Two days of generated log (3,000 mails a day) as a rotated series: ``syslog.1`` (plain,
    first day) and ``syslog`` (second day); and one gzip copy of the first day."""
    with tempfile.TemporaryDirectory(prefix="pmgfast-track-") as tmp:
        out = Path(tmp)
        loggen.generate(out, mails_per_day=3000, days=2, seed=7, gzip_from=9)
        yield out
