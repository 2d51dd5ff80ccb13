"""DMARC (RFC 7489): the From domain's policy, SPF and DKIM alignment, and the verdict.

The policy record is looked up at ``_dmarc.<From domain>``, then at ``_dmarc.<organizational
domain>`` (registered domain from the public suffix list), where ``sp=`` applies to the
subdomain. DMARC passes when SPF passed for a domain aligned with the From domain or a DKIM
signature of an aligned domain verified; relaxed alignment (the default) compares
organizational domains, strict alignment (``aspf=s``/``adkim=s``) exact domains. A failing
message outside the ``pct=`` sample gets the next weaker policy (reject -> quarantine -> none).

Hits (SpamAssassin's names): DMARC_PASS, DMARC_NONE / DMARC_QUAR / DMARC_REJECT (fail, by the
applied policy), DMARC_MISSING (no policy record), T_DMARC_TEMPERROR (the lookup failed). The
SMTP policy may reject a failing message whose applied policy is ``reject`` when the site turns
``pmgfast.dmarc_reject`` on; by default DMARC only scores, as in PMG.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from email.utils import getaddresses

from publicsuffixlist import PublicSuffixList

from pmgfast.netcheck.hits import Hit, rule_hit
from pmgfast.netcheck.resolver import Budget, Resolver

_PSL = PublicSuffixList()
POLICIES = ("none", "quarantine", "reject")
_WEAKER = {"reject": "quarantine", "quarantine": "none", "none": "none"}


def organizational_domain(domain: str) -> str:
    """The registered domain of ``domain`` (itself if the list does not know it)."""
    domain = domain.lower().rstrip(".")
    return _PSL.privatesuffix(domain) or domain


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    domain: str  # where it was found
    p: str
    sp: str
    adkim: str  # "r" or "s"
    aspf: str
    pct: int


def parse_record(text: bytes | str, domain: str) -> DmarcRecord | None:
    """A DMARC TXT record, or None if it is not one (RFC 7489 6.3, 6.6.3)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags.setdefault(name.strip().lower(), value.strip())
    if tags.get("v") != "DMARC1" or not text.lstrip().startswith("v"):
        return None
    p = tags.get("p", "").lower()
    if p not in POLICIES:
        if "rua" not in tags:
            return None
        p = "none"  # 6.6.3: a record with a valid rua but a missing or bad p is p=none
    sp = tags.get("sp", "").lower()
    try:
        pct = min(100, max(0, int(tags.get("pct", "100"))))
    except ValueError:
        pct = 100
    return DmarcRecord(
        domain,
        p,
        sp if sp in POLICIES else p,
        "s" if tags.get("adkim", "r").lower() == "s" else "r",
        "s" if tags.get("aspf", "r").lower() == "s" else "r",
        pct,
    )


def from_domain(raw: bytes) -> tuple[str | None, str]:
    """The RFC5322.From domain; (None, why) if there is not exactly one author domain."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    values: list[str] = []
    current: list[str] | None = None
    for line in head.decode("utf-8", "replace").splitlines():
        if line[:1] in (" ", "\t"):
            if current is not None:
                current.append(line.strip())
            continue
        if current is not None:
            values.append(" ".join(current))
            current = None
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "from":
            current = [value.strip()]
    if current is not None:
        values.append(" ".join(current))
    if not values:
        return None, "no From header"
    if len(values) > 1:
        return None, "more than one From header"
    domains = {
        addr.rpartition("@")[2].lower().rstrip(".")
        for _, addr in getaddresses(values)
        if "@" in addr
    }
    if len(domains) != 1:
        return None, "no author domain" if not domains else "several author domains"
    domain = domains.pop()
    return (domain or None), ("" if domain else "empty author domain")


@dataclass(frozen=True, slots=True)
class DmarcOutcome:
    result: str  # pass, fail, none (no record), temperror, permerror (no usable From)
    from_domain: str | None
    record: DmarcRecord | None = None
    policy: str | None = None  # the policy applied to a failure, after pct
    spf_aligned: bool = False
    dkim_aligned: bool = False
    detail: str = ""

    def hits(self) -> list[Hit]:
        domain = self.from_domain or ""
        if self.result == "pass":
            return [rule_hit("DMARC_PASS", domain)]
        if self.result == "fail":
            name = {"reject": "DMARC_REJECT", "quarantine": "DMARC_QUAR"}.get(
                self.policy or "none", "DMARC_NONE"
            )
            return [rule_hit(name, domain)]
        if self.result == "none":
            return [rule_hit("DMARC_MISSING", domain)] if domain else []
        if self.result == "temperror":
            return [rule_hit("T_DMARC_TEMPERROR", domain)]
        return []

    def smtp_action(self, reject_enabled: bool) -> tuple[str, str]:
        """("reject", text) for a failure under an applied reject policy when enabled."""
        if reject_enabled and self.result == "fail" and self.policy == "reject":
            return ("reject", f"5.7.1 DMARC policy of {self.from_domain} rejects this message")
        return ("dunno", "")


async def lookup_policy(
    resolver: Resolver, domain: str, budget: Budget | None = None
) -> tuple[DmarcRecord | None, str]:
    """The policy for ``domain``: (record, "") or (None, "none" | "temperror")."""
    org = organizational_domain(domain)
    names = [domain] if org == domain else [domain, org]
    # ask both at once: the organizational record is needed whenever the exact one is absent
    answers = await asyncio.gather(
        *(resolver.query(f"_dmarc.{name}", "TXT", budget) for name in names)
    )
    for name, answer in zip(names, answers, strict=True):
        if answer.temporary:
            return None, "temperror"
        records = [r for r in (parse_record(t, name) for t in answer.texts()) if r is not None]
        if len(records) == 1:
            return records[0], ""
    return None, "none"


def _aligned(domain: str, author: str, mode: str) -> bool:
    domain, author = domain.lower().rstrip("."), author.lower().rstrip(".")
    if mode == "s":
        return domain == author
    return organizational_domain(domain) == organizational_domain(author)


def evaluate(
    author: str,
    record: DmarcRecord,
    spf_result: str | None,
    spf_domain: str | None,
    dkim_domains: list[str],
    rng: random.Random | None = None,
) -> DmarcOutcome:
    """The DMARC verdict for a message whose policy record is known."""
    spf_aligned = bool(
        spf_result == "pass" and spf_domain and _aligned(spf_domain, author, record.aspf)
    )
    dkim_aligned = any(_aligned(d, author, record.adkim) for d in dkim_domains)
    if spf_aligned or dkim_aligned:
        return DmarcOutcome("pass", author, record, None, spf_aligned, dkim_aligned)
    policy = record.p if record.domain == author.lower().rstrip(".") else record.sp
    if record.pct < 100 and (rng or random).random() * 100 >= record.pct:
        policy = _WEAKER[policy]
    return DmarcOutcome("fail", author, record, policy, False, False)


async def check(
    resolver: Resolver,
    raw: bytes,
    spf_result: str | None,
    spf_domain: str | None,
    dkim_domains: list[str],
    budget: Budget | None = None,
    rng: random.Random | None = None,
) -> DmarcOutcome:
    """Look up the From domain's policy and evaluate the message against it."""
    author, why = from_domain(raw)
    if author is None:
        return DmarcOutcome("permerror", None, detail=why)
    record, status = await lookup_policy(resolver, author, budget)
    if record is None:
        return DmarcOutcome(status, author)
    return evaluate(author, record, spf_result, spf_domain, dkim_domains, rng)
