"""What one clamd scan answered: clean, a virus, a heuristic finding, or an error.

:func:`parse_reply` turns clamd's reply line (``stream: OK``, ``stream: NAME FOUND``,
``... ERROR``, with or without an IDSESSION ``N: `` prefix) into a :class:`ClamdResult`. It never
raises: a reply it cannot read is an ``ERROR`` result that carries the reply text, so a broken or
hostile daemon answer ends as a tempfail, never as a silent "clean".

ClamAV names that start with ``Heuristics.`` (encrypted archives with ``AlertEncrypted``,
phishing URL checks, broken executables, ...) are not viruses: PMG adds
``spam.clamav_heuristic_score`` for them instead (pseudo-rule ``ClamAVHeuristics``). They are
:attr:`Verdict.HEURISTIC` here; :mod:`pmgfast.clamav.policy` applies the score.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

HEURISTIC_PREFIX = "Heuristics."

# "<path>: <name> FOUND" (the path is "stream" for INSTREAM); the name has no spaces.
_FOUND = re.compile(r"^(?:.*?): (\S+) FOUND$")
_OK = re.compile(r"^(?:.*?): OK$")
_SESSION_ID = re.compile(r"^(\d+): ")


class Verdict(enum.Enum):
    CLEAN = "clean"
    VIRUS = "virus"
    HEURISTIC = "heuristic"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ClamdResult:
    """One scan's answer.

    ``name`` is the signature name for VIRUS and HEURISTIC (``Eicar-Test-Signature.UNOFFICIAL``,
    ``Heuristics.Encrypted.Zip``), else ``None``. ``error`` says what went wrong for ERROR.
    ``truncated`` is true when the message was longer than clamd's ``StreamMaxLength`` and only
    its first ``StreamMaxLength`` bytes were scanned (clamd's own ``MaxScanSize`` does the same
    inside a file). ``elapsed`` is the wall-clock seconds the scan took, connect included.
    """

    verdict: Verdict
    name: str | None = None
    error: str | None = None
    truncated: bool = False
    elapsed: float = 0.0

    @property
    def is_virus(self) -> bool:
        return self.verdict is Verdict.VIRUS

    @property
    def is_heuristic(self) -> bool:
        return self.verdict is Verdict.HEURISTIC

    @property
    def is_error(self) -> bool:
        return self.verdict is Verdict.ERROR

    @classmethod
    def failure(cls, error: str, elapsed: float = 0.0) -> ClamdResult:
        return cls(Verdict.ERROR, error=error, elapsed=elapsed)


def strip_session_id(reply: str) -> str:
    """``"3: stream: OK"`` -> ``"stream: OK"`` (IDSESSION replies carry the request number)."""
    match = _SESSION_ID.match(reply)
    return reply[match.end() :] if match else reply


def classify(name: str) -> Verdict:
    return Verdict.HEURISTIC if name.startswith(HEURISTIC_PREFIX) else Verdict.VIRUS


def parse_reply(raw: bytes) -> ClamdResult:
    """Read one reply of a scan command; the trailing NUL or newline may be present."""
    text = raw.rstrip(b"\0\n").decode("utf-8", "replace").strip()
    text = strip_session_id(text)
    if not text:
        return ClamdResult.failure("empty reply from clamd")
    if text.endswith(" ERROR") or text == "ERROR":
        return ClamdResult.failure(f"clamd: {text}")
    found = _FOUND.match(text)
    if found:
        name = found.group(1)
        return ClamdResult(classify(name), name=name)
    if _OK.match(text):
        return ClamdResult(Verdict.CLEAN)
    return ClamdResult.failure(f"unexpected reply from clamd: {text[:200]!r}")
