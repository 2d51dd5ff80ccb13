"""DNS blocklists on client addresses: postscreen's weighted verdict and the RCVD_IN_* scores.

Two uses, one lookup path:

* :func:`check_client` is postscreen's DNSBL test at connect time: every configured list is
  asked about the client once, every entry whose reply filter matches adds its weight, and the
  client is blocked when the sum reaches ``dnsbl_threshold`` (``mail.dnsbl_sites``,
  ``mail.dnsbl_threshold``). Lists that did not answer in time count as not listed (postscreen
  does the same). The SMTP welcomelist exempts a client before this is called.
* :func:`rbl_hits` gives the spam engine SpamAssassin's RCVD_IN_* hits for the client (the last
  external relay) and, for the lists SpamAssassin checks on every untrusted hop, for the relays
  before it. Well-known lists map replies to SpamAssassin's rule names and scores; any other
  list fires ``RCVD_IN_<ZONE>`` with the entry's weight as score.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from pmgfast.netcheck.hits import Hit
from pmgfast.netcheck.resolver import Budget, Lookup, Resolver, Status
from pmgfast.netcheck.sites import ReplyFilter, SiteEntry, parse_sites, reversed_ip


@dataclass(frozen=True, slots=True)
class Listing:
    """One configured entry that matched: which list, which address, which replies."""

    entry: SiteEntry
    ip: str
    replies: tuple[str, ...]


@dataclass(slots=True)
class DnsblVerdict:
    """postscreen's view of one client: the summed weight, what hit, and whether to block."""

    ip: str
    score: float
    threshold: int
    listings: list[Listing] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # lists that timed out or failed

    @property
    def blocked(self) -> bool:
        return bool(self.listings) and self.score >= self.threshold

    @property
    def sites(self) -> list[str]:
        """The list domains that listed the client, each once, in configuration order."""
        return list(dict.fromkeys(listing.entry.domain for listing in self.listings))

    def reply_text(self) -> str:
        """The SMTP reply postscreen gives a blocked client."""
        sites = ", ".join(self.sites)
        return f"550 5.7.1 Service unavailable; client [{self.ip}] blocked using {sites}"


async def _ask(
    resolver: Resolver, ip: str, domains: list[str], budget: Budget | None
) -> dict[str, Lookup]:
    label = reversed_ip(ip)
    answers = await asyncio.gather(
        *(resolver.query(f"{label}.{domain}", "A", budget) for domain in domains)
    )
    return dict(zip(domains, answers, strict=True))


async def check_client(
    resolver: Resolver,
    ip: str,
    entries: tuple[SiteEntry, ...],
    threshold: int,
    budget: Budget | None = None,
) -> DnsblVerdict:
    """postscreen's DNSBL verdict for one client address."""
    verdict = DnsblVerdict(ip, 0.0, threshold)
    try:
        reversed_ip(ip)
    except ValueError:
        return verdict  # not an address (e.g. "unknown"): nothing to look up
    domains = list(dict.fromkeys(entry.domain for entry in entries))
    answers = await _ask(resolver, ip, domains, budget)
    for domain, answer in answers.items():
        if answer.temporary:
            verdict.unanswered.append(domain)
    for entry in entries:
        answer = answers[entry.domain]
        replies = tuple(a for a in answer.addresses() if entry.matches(a))
        if answer.status is Status.OK and replies:
            verdict.listings.append(Listing(entry, ip, replies))
            verdict.score += entry.weight
    return verdict


@dataclass(frozen=True, slots=True)
class KnownRule:
    filter: ReplyFilter
    name: str
    score: float
    description: str
    every_hop: bool  # SpamAssassin checks it on all untrusted relays, not only the last


def _rule(reply: str, name: str, score: float, description: str, every_hop: bool) -> KnownRule:
    entry = parse_sites(f"x={reply}")[0]
    assert entry.filter is not None
    return KnownRule(entry.filter, name, score, description, every_hop)


_SBL = "Received via a relay in Spamhaus "
_WL = "Sender listed at https://www.dnswl.org/, "
KNOWN: dict[str, tuple[KnownRule, ...]] = {
    "zen.spamhaus.org": (
        _rule("127.0.0.2", "RCVD_IN_SBL", 2.596, _SBL + "SBL", True),
        _rule("127.0.0.3", "RCVD_IN_SBL_CSS", 3.335, _SBL + "SBL-CSS", True),
        _rule("127.0.0.[4..7]", "RCVD_IN_XBL", 0.375, _SBL + "XBL", False),
        _rule("127.0.0.[10;11]", "RCVD_IN_PBL", 3.558, _SBL + "PBL", False),
    ),
    "bl.spamcop.net": (
        _rule("127.0.0.2", "RCVD_IN_BL_SPAMCOP_NET", 1.347,
              "Received via a relay in bl.spamcop.net", True),
    ),
    "psbl.surriel.com": (
        _rule("127.0.0.2", "RCVD_IN_PSBL", 2.7, "Received via a relay in PSBL", True),
    ),
    "list.dnswl.org": (
        _rule("127.0.[0..255].0", "RCVD_IN_DNSWL_NONE", -0.0001, _WL + "no trust", False),
        _rule("127.0.[0..255].1", "RCVD_IN_DNSWL_LOW", -0.7, _WL + "low trust", False),
        _rule("127.0.[0..255].2", "RCVD_IN_DNSWL_MED", -2.3, _WL + "medium trust", False),
        _rule("127.0.[0..255].3", "RCVD_IN_DNSWL_HI", -5.0, _WL + "high trust", False),
    ),
}  # fmt: skip


def rule_name(domain: str) -> str:
    """``RCVD_IN_<ZONE>`` for a list SpamAssassin has no rule for."""
    return "RCVD_IN_" + re.sub(r"[^A-Z0-9]+", "_", domain.upper()).strip("_")


async def rbl_hits(
    resolver: Resolver,
    client_ip: str | None,
    relays: list[str],
    entries: tuple[SiteEntry, ...],
    budget: Budget | None = None,
) -> tuple[list[Hit], list[str]]:
    """RCVD_IN_* hits for the client and the untrusted relays; also the lists that timed out."""
    domains = list(dict.fromkeys(entry.domain for entry in entries))
    every_hop = [d for d in domains if any(r.every_hop for r in KNOWN.get(d, ()))]
    plan: list[tuple[str, list[str], bool]] = []
    if client_ip:
        plan.append((client_ip, domains, True))
    plan.extend((ip, every_hop, False) for ip in relays if ip != client_ip and every_hop)
    runnable = []
    for ip, wanted, is_client in plan:
        try:
            reversed_ip(ip)
        except ValueError:
            continue
        runnable.append((ip, wanted, is_client))
    answers = await asyncio.gather(*(_ask(resolver, ip, w, budget) for ip, w, _ in runnable))
    fired: dict[str, tuple[float, str, list[str]]] = {}
    unanswered: list[str] = []
    for (ip, _wanted, is_client), by_domain in zip(runnable, answers, strict=True):
        for domain, answer in by_domain.items():
            if answer.temporary:
                unanswered.append(domain)
                continue
            own = [e for e in entries if e.domain == domain]
            replies = [a for a in answer.addresses() if any(e.matches(a) for e in own)]
            if not replies:
                continue
            where = f"{ip} listed in {domain}"
            known = KNOWN.get(domain)
            if known is None:
                weight = max(e.weight for e in own if any(e.matches(a) for a in replies))
                description = f"Received via a relay listed in {domain}"
                fired.setdefault(rule_name(domain), (weight, description, []))[2].append(where)
                continue
            for rule in known:
                if (is_client or rule.every_hop) and any(rule.filter.matches(a) for a in replies):
                    fired.setdefault(rule.name, (rule.score, rule.description, []))[2].append(where)
    hits = [
        Hit(name, score, f"{description} [{', '.join(dict.fromkeys(where))}]")
        for name, (score, description, where) in fired.items()
    ]
    return hits, list(dict.fromkeys(unanswered))
