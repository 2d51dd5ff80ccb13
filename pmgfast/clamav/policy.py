"""What a ClamAV answer means for the message, as PMG decides it (pmg-behaviour.md 1.3, step 5).

- **virus**: the virus info becomes ``"<name> (clamav)"``. The rules' Virus object matches on it,
  ``__VIRUS_INFO__`` prints it, the Quarantine action picks the virus quarantine because of it,
  the statistics row stores it (CStatistic.VirusInfo, counted per name for the virus chart),
  and incoming mail gets ``X-Proxmox-VInfo``. Log: ``virus detected: <name> (clamav)``.
- **heuristic** (``Heuristics.*``): not a virus. It adds ``spam.clamav_heuristic_score``
  (default 3) to the spam score as the pseudo-rule ``ClamAVHeuristics``.
- **clean**: nothing.
- **error** (clamd unreachable, timed out, answered ERROR or nonsense): a temporary failure, so
  Postfix keeps the mail and retries. Never a silent accept. Only an admin who lists
  ``scanner`` in ``pmgfast.milter_fail_open`` gets the message through unscanned, and then it
  is logged as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmgfast.clamav.result import ClamdResult, Verdict

SCANNER = "clamav"
HEURISTIC_RULE = "ClamAVHeuristics"
HEURISTIC_DESC = "ClamAV heuristic tests"
VINFO_HEADER = "X-Proxmox-VInfo"
DEFAULT_HEURISTIC_SCORE = 3


@dataclass(frozen=True, slots=True)
class VirusAssessment:
    """The policy's reading of one scan, ready for the rules, the log and the statistics.

    ``virus`` is PMG's vinfo (``"<name> (clamav)"``) or ``None``; ``virus_name`` the bare
    signature name. ``spam_score`` and ``spam_rule`` are what the spam analysis adds
    (``ClamAVHeuristics``). ``tempfail`` asks the milter for a 451. ``log`` are the log
    messages (without the filter id prefix) in PMG's words.
    """

    virus: str | None = None
    virus_name: str | None = None
    heuristic: str | None = None
    spam_score: int = 0
    spam_rule: str | None = None
    tempfail: bool = False
    error: str | None = None
    unscanned: bool = False
    log: tuple[str, ...] = ()

    def headers(self, trusted: bool) -> tuple[tuple[str, str], ...]:
        """Headers to add: PMG sets ``X-Proxmox-VInfo`` on incoming (untrusted) virus mail."""
        if self.virus and not trusted:
            return ((VINFO_HEADER, self.virus),)
        return ()

    @property
    def statistics_name(self) -> str | None:
        """The CStatistic.VirusInfo value (counted per name by the virus chart)."""
        return self.virus


def vinfo(name: str, scanner: str = SCANNER) -> str:
    return f"{name} ({scanner})"


def assess(
    result: ClamdResult,
    *,
    heuristic_score: int = DEFAULT_HEURISTIC_SCORE,
    fail_open: bool = False,
) -> VirusAssessment:
    """Apply PMG's ClamAV policy to one result."""
    truncated = (
        ("message longer than clamd's StreamMaxLength: only the first part was scanned",)
        if result.truncated
        else ()
    )
    if result.verdict is Verdict.VIRUS and result.name:
        info = vinfo(result.name)
        return VirusAssessment(
            virus=info,
            virus_name=result.name,
            log=(f"virus detected: {info}", *truncated),
        )
    if result.verdict is Verdict.HEURISTIC and result.name:
        return VirusAssessment(
            heuristic=result.name,
            spam_score=heuristic_score,
            spam_rule=HEURISTIC_RULE,
            log=(f"ClamAV heuristic detected: {result.name} (score {heuristic_score})", *truncated),
        )
    if result.verdict is Verdict.CLEAN:
        return VirusAssessment(log=truncated)
    error = result.error or "virus scanner failed"
    if fail_open:
        return VirusAssessment(
            error=error,
            unscanned=True,
            log=(f"virus analyze (clamav) failed: {error}: accepted unscanned (fail-open)",),
        )
    return VirusAssessment(
        error=error,
        tempfail=True,
        log=(f"virus analyze (clamav) failed: {error}: ERROR",),
    )
