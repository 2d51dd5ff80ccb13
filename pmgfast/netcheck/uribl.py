"""URI blocklists (SURBL, URIBL, Spamhaus DBL) on the domains linked from a message body.

The MIME walk hands over the URIs or host names it found in text and HTML parts. Each is
reduced to its registered domain with the public suffix list (``publicsuffixlist``, which ships
the list; nothing is downloaded), so ``http://a.b.evil.example.co.uk/x`` is asked about as
``evil.example.co.uk``; IPv4 literals are asked reversed, only of lists that carry addresses.
At most :data:`MAX_DOMAINS` distinct domains are looked up per message (SpamAssassin's
``uridnsbl_max_domains``), in order of first appearance.

Hits carry SpamAssassin's names (URIBL_BLACK, URIBL_DBL_SPAM, URIBL_PH_SURBL...) and, as PMG
shows them, the listed domains in brackets after the description.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from pmgfast.netcheck.hits import Hit
from pmgfast.netcheck.resolver import Budget, Lookup, Resolver, Status
from pmgfast.netcheck.sites import SiteEntry, reversed_ip

MAX_DOMAINS = 20

_PSL = PublicSuffixList()
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HOST_CHARS = re.compile(r"^[a-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class UriRule:
    mask: int | None  # bit mask on the last octet, or None for an exact reply
    reply: str | None
    name: str
    score: float
    description: str


def _bits(table: list[tuple[int, str, float, str]]) -> tuple[UriRule, ...]:
    return tuple(UriRule(mask, None, name, score, text) for mask, name, score, text in table)


def _exact(table: list[tuple[str, str, float, str]]) -> tuple[UriRule, ...]:
    return tuple(UriRule(None, reply, name, score, text) for reply, name, score, text in table)


_DBL = "Contains a {} URL listed in the Spamhaus DBL blocklist"
KNOWN: dict[str, tuple[UriRule, ...]] = {
    "multi.surbl.org": _bits([
        (8, "URIBL_PH_SURBL", 0.61, "Contains an URL listed in the PH SURBL blocklist"),
        (16, "URIBL_MW_SURBL", 1.263, "Contains a URL listed in the MW SURBL blocklist"),
        (32, "URIBL_ABUSE_SURBL", 1.25, "Contains an URL listed in the ABUSE SURBL blocklist"),
        (64, "URIBL_CR_SURBL", 1.263, "Contains an URL listed in the CR SURBL blocklist"),
    ]),
    "multi.uribl.com": _bits([
        (2, "URIBL_BLACK", 1.7, "Contains an URL listed in the URIBL blacklist"),
        (4, "URIBL_GREY", 0.424, "Contains an URL listed in the URIBL greylist"),
        (8, "URIBL_RED", 0.001, "Contains an URL listed in the URIBL redlist"),
    ]),
    "dbl.spamhaus.org": _exact([
        ("127.0.1.2", "URIBL_DBL_SPAM", 2.5, _DBL.format("spam")),
        ("127.0.1.4", "URIBL_DBL_PHISH", 2.5, _DBL.format("phishing")),
        ("127.0.1.5", "URIBL_DBL_MALWARE", 2.5, _DBL.format("malware")),
        ("127.0.1.6", "URIBL_DBL_BOTNETCC", 2.5, _DBL.format("botnet C&C")),
        ("127.0.1.102", "URIBL_DBL_ABUSE_SPAM", 2.5, _DBL.format("abused spam")),
        ("127.0.1.103", "URIBL_DBL_ABUSE_REDIR", 0.001, _DBL.format("abused redirector")),
        ("127.0.1.104", "URIBL_DBL_ABUSE_PHISH", 2.5, _DBL.format("abused phishing")),
        ("127.0.1.105", "URIBL_DBL_ABUSE_MALW", 2.5, _DBL.format("abused malware")),
        ("127.0.1.106", "URIBL_DBL_ABUSE_BOTCC", 2.5, _DBL.format("abused botnet C&C")),
    ]),
}  # fmt: skip
NO_ADDRESSES = frozenset({"dbl.spamhaus.org", "multi.uribl.com"})  # they list names only


@dataclass(frozen=True, slots=True)
class Target:
    """What is asked about one linked host: a registered domain or a reversed IPv4 address."""

    label: str  # the query prefix
    shown: str  # as shown in the hit (domain, or the address)
    is_address: bool


@lru_cache(maxsize=65536)
def _reduce(host: str) -> Target | None:
    host = host.strip().strip(".").lower()
    if not host:
        return None
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        pass
    else:
        return Target(reversed_ip(str(address)), str(address), True)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if not _HOST_CHARS.match(host) or len(host) > 253 or "." not in host:
        return None
    if any(not 0 < len(label) < 64 for label in host.split(".")):
        return None
    registered = _PSL.privatesuffix(host)
    if registered is None:
        return None
    return Target(registered, registered, False)


def host_of(item: str) -> str | None:
    """The host part of a URI, an e-mail address or a bare host name."""
    item = item.strip().strip("<>\"'")
    if not item:
        return None
    lowered = item.lower()
    if lowered.startswith("mailto:"):
        return item[7:].split("?", 1)[0].rpartition("@")[2] or None
    if not _SCHEME.match(item) or lowered.startswith(("www.", "ftp.")):
        if "@" in item and "/" not in item:
            return item.rpartition("@")[2]
        item = "//" + item
    try:
        host = urlsplit(item).hostname
    except ValueError:
        return None
    return host


def targets(items: Iterable[str], limit: int = MAX_DOMAINS) -> list[Target]:
    """Distinct query targets for the linked URIs/hosts, in order, at most ``limit``."""
    found: dict[str, Target] = {}
    for item in items:
        host = host_of(item)
        target = _reduce(host) if host else None
        if target is not None and target.label not in found:
            found[target.label] = target
            if len(found) >= limit:
                break
    return list(found.values())


def rule_name(zone: str) -> str:
    return "URIBL_" + re.sub(r"[^A-Z0-9]+", "_", zone.upper()).strip("_")


def _rules_for(zone: str, reply: str, entries: list[SiteEntry]) -> list[tuple[str, float, str]]:
    if not any(e.matches(reply) for e in entries):
        return []
    known = KNOWN.get(zone)
    if known is None:
        weight = max(e.weight for e in entries if e.matches(reply))
        return [(rule_name(zone), weight, f"Contains an URL listed in the {zone} blocklist")]
    last = int(reply.rsplit(".", 1)[1])
    fired = []
    for rule in known:
        by_bit = rule.mask is not None and bool(last & rule.mask) and reply.startswith("127.0.0.")
        if by_bit or (rule.reply is not None and reply == rule.reply):
            fired.append((rule.name, rule.score, rule.description))
    return fired


@dataclass(slots=True)
class UriblResult:
    hits: list[Hit] = field(default_factory=list)
    listed: dict[str, list[str]] = field(default_factory=dict)  # domain -> rule names
    unanswered: list[str] = field(default_factory=list)
    looked_up: int = 0


async def check_uris(
    resolver: Resolver,
    items: Iterable[str],
    entries: tuple[SiteEntry, ...],
    budget: Budget | None = None,
    limit: int = MAX_DOMAINS,
) -> UriblResult:
    """Ask every configured URI list about the linked domains; hits with the domains shown."""
    result = UriblResult()
    zones = list(dict.fromkeys(entry.domain for entry in entries))
    wanted = targets(items, limit)
    jobs: list[tuple[Target, str]] = [
        (t, zone) for t in wanted for zone in zones if not (t.is_address and zone in NO_ADDRESSES)
    ]
    result.looked_up = len(jobs)
    answers: list[Lookup] = await asyncio.gather(
        *(resolver.query(f"{t.label}.{zone}", "A", budget) for t, zone in jobs)
    )
    fired: dict[str, tuple[float, str, list[str]]] = {}
    for (target, zone), answer in zip(jobs, answers, strict=True):
        if answer.temporary:
            result.unanswered.append(zone)
            continue
        if answer.status is not Status.OK:
            continue
        own = [e for e in entries if e.domain == zone]
        for reply in answer.addresses():
            for name, score, description in _rules_for(zone, reply, own):
                shown = fired.setdefault(name, (score, description, []))[2]
                if target.shown not in shown:
                    shown.append(target.shown)
                rules = result.listed.setdefault(target.shown, [])
                if name not in rules:
                    rules.append(name)
    result.hits = [
        Hit(name, score, f"{description} [{', '.join(shown)}]")
        for name, (score, description, shown) in fired.items()
    ]
    result.unanswered = list(dict.fromkeys(result.unanswered))
    return result
