"""ClamAV as a pipeline scanner (the :class:`pmgfast.scan.Scanner` interface).

The whole raw message goes to clamd (PMG scans the whole message file, not the parts); the
answer is read by :mod:`pmgfast.clamav.policy`:

- a virus: ``Verdict(virus=<name>)``; the runner makes it ``"<name> (clamav)"``, which the
  rules, ``__VIRUS_INFO__``, the virus quarantine and the statistics use;
- ``Heuristics.*``: ``spam.clamav_heuristic_score`` as the hit ``ClamAVHeuristics``;
- clamd unreachable, out of time or answering an error: :class:`ClamdScanError` is raised, and
  the runner applies ``on_failure``: ``tempfail`` (451, the default) or, when the admin lists
  ``scanner`` in ``pmgfast.milter_fail_open``, ``ok`` (logged, passed unscanned).

One scanner (and so one connection pool) per worker process; :func:`from_config` builds it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pmgfast.clamav.client import DEFAULT_TIMEOUT, ClamdClient
from pmgfast.clamav.conf import read_clamd_conf
from pmgfast.clamav.layout import layout_from_config
from pmgfast.clamav.policy import DEFAULT_HEURISTIC_SCORE, HEURISTIC_DESC, assess
from pmgfast.scan.base import FailurePolicy, ScanItem, SpamHit, Verdict


class ClamdScanError(RuntimeError):
    """clamd gave no usable answer (the message must not pass as clean)."""


@dataclass
class ClamAVScanner:
    """The ClamAV scanner. ``client`` is the worker's pooled clamd client."""

    client: ClamdClient
    heuristic_score: int = DEFAULT_HEURISTIC_SCORE
    budget: float = DEFAULT_TIMEOUT
    on_failure: FailurePolicy = "tempfail"
    name: str = "clamav"
    kind: Literal["virus"] = "virus"
    last: Any = field(default=None, repr=False)  # the last ClamdResult (tests, benchmarks)

    def scan(self, item: ScanItem, deadline: float) -> Verdict:
        fid = item.filter_id
        result = self.client.scan(item.raw, timeout=max(0.001, deadline - time.monotonic()))
        self.last = result
        finding = assess(result, heuristic_score=self.heuristic_score)
        if finding.tempfail:
            raise ClamdScanError(finding.error or "virus scanner failed")
        log = tuple((f"{fid}: {line}", False) for line in finding.log)
        if finding.virus_name is not None:
            return Verdict(virus=finding.virus_name, log=log)
        if finding.spam_rule is not None:
            hit = SpamHit(finding.spam_rule, float(finding.spam_score), HEURISTIC_DESC)
            return Verdict(score=float(finding.spam_score), hits=(hit,), log=log)
        return Verdict(log=log)

    def close(self) -> None:
        self.client.close()


def from_config(
    conf: Any,
    clamd_conf: Path | None = None,
    fail_open: bool = False,
    budget: float = DEFAULT_TIMEOUT,
) -> ClamAVScanner | None:
    """The scanner when ``admin.clamav`` is on (the default), else None.

    ``conf`` is a :class:`pmgfast.config.PmgConf`; ``clamd_conf`` the clamd.conf that
    ``pmgfast config sync`` renders (where clamd listens, its StreamMaxLength; default
    ``pmgfast.clamd_conf``). A clamd.conf
    that cannot be read raises :class:`~pmgfast.clamav.conf.ClamdConfError` at start-up,
    not per message.
    """
    if not conf.get("admin", "clamav"):
        return None
    path = clamd_conf if clamd_conf is not None else layout_from_config(conf).conf_path
    client = ClamdClient.from_conf(read_clamd_conf(path), timeout=budget)
    return ClamAVScanner(
        client,
        heuristic_score=int(conf.get("spam", "clamav_heuristic_score")),
        budget=budget,
        on_failure="ok" if fail_open else "tempfail",
    )
