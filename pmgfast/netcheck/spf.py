"""SPF (RFC 7208) for MAIL FROM and HELO, on pyspf, with lookups through our resolver.

pyspf evaluates the record (macros, include/redirect, the 10-lookup and void-lookup limits,
explanations); every DNS question it asks is answered by the shared
:class:`~pmgfast.netcheck.resolver.Resolver` (same cache, same budget), without a thread (see
:class:`SpfChecker`). pyspf's module-level ``DNSLookup`` is replaced once by a dispatcher that
uses the lookup bound to the current thread, and falls back to pyspf's own for threads that
bound none, so other users of pyspf in the process are unaffected.

The outcome serves two consumers:

* the SMTP policy (issue 11), as PMG's pmgpolicy does it: :meth:`SpfOutcome.smtp_action`
  rejects on ``fail`` when ``mail.spf`` is on and prepends a Received-SPF header otherwise;
  for the null sender the HELO identity decides;
* the spam engine: SPF_* hits for MAIL FROM, SPF_HELO_* hits for the HELO name.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import spf as pyspf

from pmgfast.netcheck.hits import Hit, rule_hit
from pmgfast.netcheck.resolver import Budget, Lookup, Resolver, Status

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "temperror", "permerror")
# pyspf still speaks RFC 4408 in places
_RENAME = {"error": "temperror", "unknown": "permerror", "deny": "fail"}

_bound = threading.local()
_pyspf_lookup = pyspf.DNSLookup


def _dispatch(name: str, qtype: str, strict: Any = True, timeout: float = 20) -> Any:
    lookup: Callable[[str, str], list[Any]] | None = getattr(_bound, "lookup", None)
    if lookup is None:
        return _pyspf_lookup(name, qtype, strict, timeout)
    return lookup(name, qtype)


pyspf.DNSLookup = _dispatch


def _pyspf_records(answer: Lookup, name: str, qtype: str) -> list[tuple[tuple[str, str], Any]]:
    """An answer in the shape pyspf's DNSLookup returns: ((name, type), value) pairs."""
    if answer.temporary:
        raise pyspf.TempError(f"DNS {answer.status.value}: {answer.detail or name}")
    if answer.status is not Status.OK:
        if answer.canonical:  # a CNAME without the target's data: let pyspf follow it
            return [((name, "CNAME"), answer.canonical)]
        return []
    out: list[tuple[tuple[str, str], Any]] = []
    for rdata in answer.records:
        if qtype in ("A", "AAAA"):
            out.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            out.append(((name, qtype), (rdata.preference, rdata.exchange.to_text(True))))
        elif qtype == "PTR":
            out.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            out.append(((name, qtype), list(rdata.strings)))
    return out


@dataclass(frozen=True, slots=True)
class SpfResult:
    """One SPF evaluation: identity checked, result, and pyspf's explanation/comment."""

    identity: str  # "mailfrom" or "helo"
    domain: str
    result: str  # one of RESULTS
    explanation: str
    header: str  # Received-SPF value

    @property
    def definitive(self) -> bool:
        return self.result in ("pass", "fail", "temperror")


@dataclass(frozen=True, slots=True)
class SpfOutcome:
    """MAIL FROM (or postmaster@HELO for the null sender) and HELO results together."""

    mailfrom: SpfResult
    helo: SpfResult | None

    @property
    def deciding(self) -> SpfResult:
        """The result the SMTP policy acts on: PMG uses the HELO identity for the null sender
        when its result is definitive (pass, fail, temperror), MAIL FROM otherwise."""
        if self.mailfrom.identity == "helo" and self.helo is not None and self.helo.definitive:
            return self.helo
        return self.mailfrom

    def smtp_action(self, enabled: bool = True) -> tuple[str, str]:
        """pmgpolicy's answer: ("reject", text) on fail, ("prepend", header) otherwise,
        ("dunno", "") when SPF is off."""
        if not enabled:
            return ("dunno", "")
        decisive = self.deciding
        if decisive.result == "fail":
            return ("reject", decisive.explanation or "SPF fail")
        return ("prepend", f"Received-SPF: {decisive.header}")

    def hits(self) -> list[Hit]:
        """SPF_* for MAIL FROM, SPF_HELO_* for HELO, as SpamAssassin names them."""
        found = [rule_hit(_rule("SPF_", self.mailfrom.result))]
        if self.helo is not None:
            found.append(rule_hit(_rule("SPF_HELO_", self.helo.result)))
        return found


def _rule(prefix: str, result: str) -> str:
    if result in ("temperror", "permerror"):
        return f"T_{prefix}{result.upper()}"
    return f"{prefix}{result.upper()}"


class _NeedLookup(BaseException):
    """Raised through pyspf when it asks a question not answered yet (BaseException, so that
    pyspf's ``except Exception`` handlers let it pass)."""

    def __init__(self, name: str, qtype: str) -> None:
        super().__init__(name, qtype)
        self.name = name
        self.qtype = qtype


MAX_ROUNDS = 64  # pyspf stops at 10 DNS mechanisms and 2 void lookups; this is a backstop


class SpfChecker:
    """Evaluates SPF with pyspf on the event loop, its lookups answered by the shared resolver.

    pyspf is synchronous. Instead of a thread (whose GIL hand-offs with a busy event loop cost
    milliseconds per lookup), each evaluation runs pyspf to the first question it cannot
    answer from what is known, awaits that one lookup, and runs pyspf again from the start:
    every earlier answer is now in hand, so a record needing n sequential lookups costs n
    round trips plus n cheap re-evaluations, and never blocks the loop on the network.
    """

    def __init__(
        self,
        resolver: Resolver,
        receiver: str = "pmgfast",
        default_explanation: str | None = None,
    ) -> None:
        self.resolver = resolver
        self.receiver = receiver
        self.default_explanation = default_explanation

    def close(self) -> None:
        """Nothing to release (kept so callers can treat every checker alike)."""

    async def check(
        self, ip: str, helo: str, sender: str, budget: Budget | None = None
    ) -> SpfOutcome:
        """Evaluate MAIL FROM and HELO in parallel."""
        sender = sender.strip().strip("<>")
        identity = asyncio.ensure_future(self.evaluate(ip, sender, helo, budget))
        helo_result = None
        if helo and sender:
            helo_result = await self.evaluate(ip, "", helo, budget)
        mailfrom = await identity
        if helo and not sender:  # for the null sender the MAIL FROM check is the HELO check
            helo_result = mailfrom
        return SpfOutcome(mailfrom, helo_result)

    async def evaluate(
        self, ip: str, sender: str, helo: str, budget: Budget | None = None
    ) -> SpfResult:
        """One evaluation (``sender`` empty: the HELO identity, postmaster@helo)."""
        known: dict[tuple[str, str], Lookup] = {}
        for _ in range(MAX_ROUNDS):
            try:
                return self._run_pyspf(ip, sender, helo, known, budget)
            except _NeedLookup as need:
                answer = await self.resolver.query(need.name, need.qtype, budget)
                known[(need.name.lower(), need.qtype)] = answer
        identity = "helo" if not sender else "mailfrom"
        return SpfResult(identity, "", "temperror", "too many DNS lookups", "")

    def _run_pyspf(
        self,
        ip: str,
        sender: str,
        helo: str,
        known: dict[tuple[str, str], Lookup],
        budget: Budget | None,
    ) -> SpfResult:
        missing: list[_NeedLookup] = []

        def lookup(name: str, qtype: str) -> list[Any]:
            key = (name.lower(), qtype)
            answer = known.get(key) or self.resolver.cached(name, qtype)
            if answer is None:
                missing.append(_NeedLookup(name, qtype))
                raise missing[-1]
            known[key] = answer
            return _pyspf_records(answer, name, qtype)

        querytime = budget.remaining() if budget is not None else 20.0
        _bound.lookup = lookup
        try:
            query = pyspf.query(
                i=ip,
                s=sender,
                h=helo,
                receiver=self.receiver,
                timeout=self.resolver.timeout,
                querytime=max(querytime, 0.001),
            )
            if self.default_explanation is not None:
                query.set_default_explanation(self.default_explanation)
            result, _code, explanation = query.check()
            result = _RENAME.get(result, result)
            header = query.get_header(result, self.receiver)
        except Exception as exc:  # pyspf on input it does not expect: record it, never crash
            if missing:
                raise missing[0] from None
            return SpfResult("helo" if not sender else "mailfrom", "", "temperror", repr(exc), "")
        finally:
            _bound.lookup = None
        if missing:  # pyspf swallowed the question (its explanation lookup catches everything)
            raise missing[0]
        identity = query.ident if query.ident in ("mailfrom", "helo") else "mailfrom"
        return SpfResult(identity, query.d or "", result, explanation or "", header)
