"""The spam engine on the pipeline's scanner interface (:class:`pmgfast.scan.Scanner`).

The pipeline runs spam scanners only when the current rule set has an active Spam object for
the message's direction (``RuleSet.needs_spam``): PMG's lazy analysis, so outgoing mail under
the factory rules is never scored. :meth:`SpamScanner.scan` scores the message, runs the
network tests first when they are configured (DNSBL/URIBL/SPF/DKIM/DMARC, one budget), and
returns the score, the hits (name, score, description: the Spam object's spam info, the
``__SPAM_*`` macros) and PMG's ``SA score=...`` log line. Learning that autolearn queued is
flushed to PostgreSQL every ``flush_every`` messages or ``flush_seconds``.

:func:`from_config` builds the worker's scanner from pmg.conf and the config directory:
``<config>/custom.cf`` (extra or replacing tests) and ``<config>/customscores.cf`` (PMG's
Custom Rule Scores, ``score NAME value`` lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg

from pmgfast.scan.base import FailurePolicy, ScanItem, SpamHit, Verdict
from pmgfast.spam.awl import PgAWL
from pmgfast.spam.bayes import BayesFilter
from pmgfast.spam.bayes_store import PgTokenStore
from pmgfast.spam.engine import Hit, SpamEngine, SpamSettings, load_rules, read_scores
from pmgfast.spam.view import Envelope

__all__ = ["CUSTOM_RULES", "CUSTOM_SCORES", "SpamScanner", "from_config"]

CUSTOM_RULES = "custom.cf"
CUSTOM_SCORES = "customscores.cf"


@dataclass
class SpamScanner:
    """The scanner; one per worker process (it owns the worker's Bayes cache)."""

    engine: SpamEngine
    net: Any | None = None  # pmgfast.netcheck.NetworkChecks
    budget: float = 60.0
    on_failure: FailurePolicy = "tempfail"
    name: str = "spamassassin"
    kind: Literal["spam"] = "spam"
    flush_every: int = 100
    flush_seconds: float = 30.0
    last: Any = field(default=None, repr=False)  # the last SpamReport (tests, benchmarks)
    _flushed: float = field(default_factory=time.monotonic, repr=False)

    def scan(self, item: ScanItem, deadline: float) -> Verdict:
        envelope = Envelope(
            item.sender, item.client_address, item.helo, item.recipients, item.client_name
        )
        net_hits: list[Hit] = []
        if self.net is not None:
            net_hits = self._network(item)
        report = self.engine.check(item.raw, envelope, net_hits=net_hits)
        self.last = report
        self._maybe_flush()
        hits = tuple(SpamHit(h.name, h.score, h.description or None) for h in report.hits)
        return Verdict(
            score=report.score,
            hits=hits,
            log=((report.log_line(item.filter_id), False),),
            required=report.required,
        )

    def _network(self, item: ScanItem) -> list[Hit]:
        from pmgfast.netcheck.checks import MessageContext

        view = self.engine.view(item.raw)
        context = MessageContext(
            client_ip=item.client_address, sender=item.sender, raw=item.raw, uris=view.uris
        )
        found = asyncio.run(self.net.check(context))  # type: ignore[union-attr]
        return [Hit(h.name, h.score, h.description) for h in found.hits]

    def _maybe_flush(self) -> None:
        bayes = self.engine.bayes
        if bayes is None:
            return
        store = bayes.store
        pending = getattr(store, "pending_messages", 0)
        if pending and (
            pending >= self.flush_every or time.monotonic() - self._flushed > self.flush_seconds
        ):
            try:
                store.flush()
            except psycopg.Error:
                return  # kept pending; the next message retries
            self._flushed = time.monotonic()

    def close(self) -> None:
        if self.engine.bayes is not None:
            with contextlib.suppress(psycopg.Error):
                self.engine.bayes.store.flush()


def from_config(
    conf: Any,
    config_dir: Path,
    connect: Callable[[], psycopg.Connection] | None = None,
    net: Any | None = None,
) -> SpamScanner:
    """The worker's scanner: rules (default + ``custom.cf``), custom scores, and with
    ``connect`` (a database) the Bayes store and AWL that ``use_bayes``/``use_awl`` enable."""
    settings = SpamSettings.from_config(conf)
    rules = load_rules([config_dir / CUSTOM_RULES])
    scores, _ = read_scores(config_dir / CUSTOM_SCORES)
    bayes = (
        BayesFilter(PgTokenStore(connect)) if connect is not None and settings.use_bayes else None
    )
    awl = PgAWL(connect) if connect is not None and settings.use_awl else None
    engine = SpamEngine(rules, settings, bayes=bayes, awl=awl, scores=scores, net=net is not None)
    return SpamScanner(engine, net=net)
