"""The scanner interface: what a virus or spam scanner gets, returns, and how long it may take.

A scanner is any object with ``name``, ``budget`` (seconds), ``on_failure`` and
``scan(item, deadline) -> Verdict``. The pipeline runs the configured scanners in order
(custom check, then virus scanners, then spam; PMG's order, pmg-behaviour.md 1.3) through
:func:`run_scanners`, which times each one, turns an exception or a missed deadline into a
:class:`ScannerFailure` and applies the scanner's ``on_failure`` policy:

- ``"tempfail"`` (the default): the message is answered 451 and retried later;
- ``"ok"``: the failure is logged and the message goes on as if the scanner had said OK (the
  custom check interface v1 demands this for its timeout, admin guide 4.11).

The pipeline logs ``virus detected: <name> (<scanner>)`` for the first virus found (scanners do
not log it themselves). A scanner that finds a virus stops the later virus scanners (PMG runs
ClamAV only when the custom check found none); spam scanners still run and add their score.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

FailurePolicy = Literal["tempfail", "ok"]


@dataclass(frozen=True, slots=True)
class SpamHit:
    """One spam test that fired (name, score, description)."""

    rule: str
    score: float
    desc: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one scanner says: a virus name (``None``: clean), a score to add to the spam
    score, the tests that fired, and lines for the log (``(text, is_error)``)."""

    virus: str | None = None
    score: float = 0.0
    hits: tuple[SpamHit, ...] = ()
    log: tuple[tuple[str, bool], ...] = ()
    required: float | None = None  # a spam scanner's own threshold (for ``score=x/5``)


@dataclass(slots=True)
class ScanItem:
    """The message as scanners see it. ``path()`` writes the whole message to a file once, on
    first use, for scanners that need one (the custom check, clamdscan); the pipeline deletes
    it afterwards."""

    filter_id: str
    raw: bytes
    sender: str
    recipients: tuple[str, ...]
    trusted: bool
    client_address: str | None
    tmp_dir: Path
    client_name: str | None = None  # the client's verified reverse name ("unknown": none)
    helo: str | None = None
    _path: Path | None = None

    def path(self) -> Path:
        if self._path is None:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            path = self.tmp_dir / f"{self.filter_id}.eml"
            path.write_bytes(self.raw)
            self._path = path
        return self._path

    def cleanup(self) -> None:
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None


class Scanner(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> Literal["virus", "spam", "custom"]: ...
    @property
    def budget(self) -> float: ...
    @property
    def on_failure(self) -> FailurePolicy: ...

    def scan(self, item: ScanItem, deadline: float) -> Verdict: ...


class ScannerFailure(RuntimeError):
    """A scanner raised or ran out of time, and its policy is ``tempfail``."""

    def __init__(self, scanner: str, reason: str) -> None:
        self.scanner = scanner
        self.reason = reason
        super().__init__(f"scanner {scanner}: {reason}")


@dataclass(slots=True)
class ScanReport:
    """All scanners' findings: the first virus (``"<name> (<scanner>)"``), the summed score,
    every hit, the log lines, and the time each scanner took (ms) by kind."""

    virus: str | None = None
    virus_name: str | None = None
    virus_scanner: str | None = None
    score: float = 0.0
    required: float = 5.0
    hits: list[SpamHit] = field(default_factory=list)
    log: list[tuple[str, bool]] = field(default_factory=list)
    ms: dict[str, float] = field(default_factory=dict)


def run_scanners(
    scanners: Sequence[Scanner], item: ScanItem, clock: Callable[[], float] = time.monotonic
) -> ScanReport:
    report = ScanReport()
    for scanner in scanners:
        if scanner.kind == "virus" and report.virus is not None:
            continue
        start = clock()
        deadline = start + scanner.budget
        failure: str | None = None
        verdict = Verdict()
        try:
            verdict = scanner.scan(item, deadline)
            if clock() > deadline:
                failure = f"ran out of its {scanner.budget:g} s budget"
                verdict = Verdict(log=verdict.log)
        except ScannerFailure:
            raise
        except Exception as err:
            failure = f"{type(err).__name__}: {err}"
        elapsed = (clock() - start) * 1000
        report.ms[scanner.kind] = report.ms.get(scanner.kind, 0.0) + elapsed
        report.log.extend(verdict.log)
        if failure is not None:
            if scanner.on_failure == "tempfail":
                raise ScannerFailure(scanner.name, failure)
            report.log.append((f"{item.filter_id}: {scanner.name}: {failure}", True))
            continue
        if verdict.virus is not None and report.virus is None:
            report.virus = f"{verdict.virus} ({scanner.name})"
            report.virus_name = verdict.virus
            report.virus_scanner = scanner.name
        report.score += verdict.score
        report.hits.extend(verdict.hits)
        if verdict.required is not None:
            report.required = verdict.required
    return report
