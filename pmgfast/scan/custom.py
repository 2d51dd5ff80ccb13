"""The custom check script interface v1 (admin guide 4.11; pmg-behaviour.md 1.3 step 4).

The script is run as ``<path> v1 <file>``, ``<file>`` holding the complete message. Its standard
output must contain the line ``v1`` and exactly one result line:

- ``OK``: the mail is fine;
- ``VIRUS: <name>``: treated as a virus (the pipeline logs ``virus detected: <name> (custom)``);
- ``SCORE: <number>``: added to the spam score (negative numbers allowed).

Anything else is an error: it is logged and the mail is treated as OK (PMG sets its error flag
and goes on). The script has 5 minutes by default; when the time is up it is killed (with its
process group) and the mail is treated as OK. Every line it writes to standard error goes to
the log with priority err.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Literal

from pmgfast.scan.base import FailurePolicy, ScanItem, Verdict

DEFAULT_PATH = "/usr/local/bin/pmg-custom-check"
DEFAULT_TIMEOUT = 300.0
_SCORE = re.compile(r"SCORE:\s*(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))")
_VIRUS = re.compile(r"VIRUS:\s*(.+)")


class CustomCheckError(ValueError):
    """The script's output broke the v1 interface."""


def parse_output(stdout: str) -> tuple[str | None, float]:
    """``(virus, score)`` from the script's standard output; raises CustomCheckError."""
    version = False
    results: list[tuple[str | None, float]] = []
    for raw in stdout.splitlines():
        line = raw.strip()
        if not line:
            continue
        if re.fullmatch(r"v[0-9]+", line):
            if line != "v1":
                raise CustomCheckError(f"api version mismatch: {line!r}")
            version = True
        elif line == "OK":
            results.append((None, 0.0))
        elif match := _SCORE.fullmatch(line):
            results.append((None, float(match.group(1))))
        elif match := _VIRUS.fullmatch(line):
            results.append((match.group(1).strip(), 0.0))
        else:
            raise CustomCheckError(f"got unexpected output: {line[:200]!r}")
    if not version:
        raise CustomCheckError("no 'v1' line in the output")
    if len(results) != 1:
        raise CustomCheckError(f"expected exactly one result line, got {len(results)}")
    return results[0]


@dataclass
class CustomCheck:
    """The custom check as a scanner (kind ``custom``: it runs before the virus scanners)."""

    path: str = DEFAULT_PATH
    budget: float = DEFAULT_TIMEOUT
    name: str = "custom"
    kind: Literal["custom"] = "custom"
    on_failure: FailurePolicy = "ok"

    def scan(self, item: ScanItem, deadline: float) -> Verdict:
        fid = item.filter_id
        log: list[tuple[str, bool]] = []
        timeout = max(0.0, deadline - time.monotonic())
        try:
            proc = subprocess.Popen(
                [self.path, "v1", str(item.path())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as err:
            return Verdict(log=((f"{fid}: custom check {self.path} failed: {err}", True),))
        try:
            out, err_out = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err_out = proc.communicate()
            log.extend(_stderr_lines(fid, err_out))
            log.append(
                (f"{fid}: custom check timed out after {self.budget:g} s, treated as OK", True)
            )
            return Verdict(log=tuple(log))
        log.extend(_stderr_lines(fid, err_out))
        try:
            virus, score = parse_output(out.decode("utf-8", "replace"))
        except CustomCheckError as error:
            log.append((f"{fid}: custom check failed: {error}", True))
            return Verdict(log=tuple(log))
        if proc.returncode != 0:
            log.append((f"{fid}: custom check exited with status {proc.returncode}", True))
        return Verdict(virus=virus, score=score, log=tuple(log))


def _stderr_lines(fid: str, data: bytes) -> list[tuple[str, bool]]:
    text = data.decode("utf-8", "replace")
    return [(f"{fid}: custom check: {line}", True) for line in text.splitlines() if line.strip()]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def from_settings(
    enabled: bool, path: str | None, timeout: float = DEFAULT_TIMEOUT
) -> CustomCheck | None:
    """The custom check when ``admin.custom_check`` is on, else None."""
    if not enabled:
        return None
    return CustomCheck(path=path or DEFAULT_PATH, budget=timeout)
