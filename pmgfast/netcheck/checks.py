"""All network tests of one message, in parallel, within one time budget: :class:`NetworkChecks`.

This is the API the SMTP policy (issue 11) and the spam engine (issue 6) use::

    checks = NetworkChecks(NetSettings.from_config(pmg_conf))
    report = await checks.check(MessageContext(client_ip, helo, sender, raw, uris))
    report.hits                 # [Hit(name, score, description)] in SpamAssassin's vocabulary
    report.smtp_reject          # reply text when DNSBL / SPF / DMARC policy says reject
    report.authentication_results

Every lookup of a message shares one :class:`~pmgfast.netcheck.resolver.Budget`; a check still
running when it is spent is cancelled and named in ``report.timed_out``, so a dead nameserver
delays a message by at most the budget and the message still gets a verdict. The DMARC policy
lookup starts with everything else; only its evaluation waits for SPF and DKIM.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmgfast.netcheck import dkim as dkim_mod
from pmgfast.netcheck import dmarc as dmarc_mod
from pmgfast.netcheck import dnsbl as dnsbl_mod
from pmgfast.netcheck import uribl as uribl_mod
from pmgfast.netcheck.authresults import header as authresults_header
from pmgfast.netcheck.dkim import DkimOutcome
from pmgfast.netcheck.dmarc import DmarcOutcome
from pmgfast.netcheck.dnsbl import DnsblVerdict
from pmgfast.netcheck.hits import Hit
from pmgfast.netcheck.received import IPNetwork, relay_ips
from pmgfast.netcheck.resolver import Budget, Resolver
from pmgfast.netcheck.sites import SiteEntry, parse_sites
from pmgfast.netcheck.spf import SpfChecker, SpfOutcome
from pmgfast.netcheck.uribl import UriblResult

DEFAULT_URIBL_SITES = "multi.surbl.org, multi.uribl.com, dbl.spamhaus.org"


@dataclass(frozen=True)
class NetSettings:
    """What the network checks need from the configuration (see :meth:`from_config`)."""

    nameservers: str | None = None
    query_timeout: float = 2.0
    message_budget: float = 5.0
    dnsbl_sites: tuple[SiteEntry, ...] = ()
    dnsbl_threshold: int = 1
    rbl_checks: bool = True
    rbl_sites: tuple[SiteEntry, ...] | None = None  # None: the dnsbl_sites
    uribl_sites: tuple[SiteEntry, ...] = parse_sites(DEFAULT_URIBL_SITES, integer_weights=False)
    spf: bool = True
    dmarc_reject: bool = False
    authserv_id: str = field(default_factory=socket.getfqdn)
    trusted_networks: tuple[IPNetwork, ...] = ()

    @property
    def scoring_sites(self) -> tuple[SiteEntry, ...]:
        return self.dnsbl_sites if self.rbl_sites is None else self.rbl_sites

    @classmethod
    def from_config(
        cls,
        conf: Any,
        authserv_id: str | None = None,
        trusted_networks: Sequence[str] = (),
    ) -> NetSettings:
        """From a :class:`pmgfast.config.PmgConf` (anything with ``get(section, name)``).

        Keys: mail.dnsbl_sites, mail.dnsbl_threshold, mail.spf, spam.rbl_checks and the
        pmgfast section's dns_nameservers, dns_timeout_ms, dns_budget_ms, rbl_sites,
        uribl_sites and dmarc_reject. A malformed site list raises ValueError naming the entry.
        """

        def get(section: str, name: str, default: Any) -> Any:
            try:
                value = conf.get(section, name)
            except KeyError:
                return default
            return default if value is None else value

        rbl_text = get("pmgfast", "rbl_sites", None)
        return cls(
            nameservers=get("pmgfast", "dns_nameservers", None),
            query_timeout=int(get("pmgfast", "dns_timeout_ms", 2000)) / 1000,
            message_budget=int(get("pmgfast", "dns_budget_ms", 5000)) / 1000,
            dnsbl_sites=parse_sites(get("mail", "dnsbl_sites", "")),
            dnsbl_threshold=int(get("mail", "dnsbl_threshold", 1)),
            rbl_checks=bool(get("spam", "rbl_checks", True)),
            rbl_sites=None if rbl_text is None else parse_sites(rbl_text, integer_weights=False),
            uribl_sites=parse_sites(
                get("pmgfast", "uribl_sites", DEFAULT_URIBL_SITES), integer_weights=False
            ),
            spf=bool(get("mail", "spf", True)),
            dmarc_reject=bool(get("pmgfast", "dmarc_reject", False)),
            authserv_id=authserv_id or socket.getfqdn(),
            trusted_networks=tuple(ipaddress.ip_network(n, strict=False) for n in trusted_networks),
        )


@dataclass
class MessageContext:
    """What the checks look at: the SMTP envelope and the message with its linked URIs."""

    client_ip: str | None = None
    helo: str = ""
    sender: str = ""  # MAIL FROM, without <>; "" for the null sender
    raw: bytes | None = None  # the message as received (headers are enough for DMARC)
    uris: Sequence[str] = ()  # URIs or host names the MIME walk found in text and HTML
    smtp_whitelisted: bool = False  # the SMTP welcomelist matched: no DNSBL/SPF blocking


@dataclass
class NetReport:
    """Everything the checks found for one message."""

    hits: list[Hit] = field(default_factory=list)
    dnsbl: DnsblVerdict | None = None
    spf: SpfOutcome | None = None
    dkim: DkimOutcome | None = None
    dmarc: DmarcOutcome | None = None
    uribl: UriblResult | None = None
    timed_out: list[str] = field(default_factory=list)
    authentication_results: str = ""
    smtp_reject: str | None = None
    elapsed: float = 0.0

    @property
    def score(self) -> float:
        return sum(hit.score for hit in self.hits)


def _domain_of(address: str) -> str | None:
    _, at, domain = address.rpartition("@")
    return domain.lower().rstrip(".") or None if at else None


class NetworkChecks:
    """DNSBL, URIBL, SPF, DKIM/ARC and DMARC over one shared resolver (module docstring)."""

    def __init__(
        self,
        settings: NetSettings,
        resolver: Resolver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver or Resolver(settings.nameservers, settings.query_timeout)
        self._spf = SpfChecker(self.resolver, receiver=settings.authserv_id)
        self._rng = rng

    def close(self) -> None:
        self._spf.close()

    def budget(self) -> Budget:
        return Budget(self.settings.message_budget)

    # --- the single checks -------------------------------------------------------------
    async def dnsbl(self, ip: str, budget: Budget | None = None) -> DnsblVerdict:
        """postscreen's weighted DNSBL verdict on the client (mail.dnsbl_sites/threshold)."""
        s = self.settings
        return await dnsbl_mod.check_client(
            self.resolver, ip, s.dnsbl_sites, s.dnsbl_threshold, budget
        )

    async def rbl(
        self, ip: str | None, relays: Sequence[str] = (), budget: Budget | None = None
    ) -> list[Hit]:
        """RCVD_IN_* hits for the client and the untrusted relays."""
        hits, _ = await dnsbl_mod.rbl_hits(
            self.resolver, ip, list(relays), self.settings.scoring_sites, budget
        )
        return hits

    async def uribl(self, uris: Sequence[str], budget: Budget | None = None) -> UriblResult:
        """URIBL_* hits for the linked domains."""
        return await uribl_mod.check_uris(self.resolver, uris, self.settings.uribl_sites, budget)

    async def spf(
        self, ip: str, helo: str, sender: str, budget: Budget | None = None
    ) -> SpfOutcome:
        """SPF for MAIL FROM and HELO."""
        return await self._spf.check(ip, helo, sender, budget)

    async def dkim(self, raw: bytes, budget: Budget | None = None) -> DkimOutcome:
        """DKIM signatures and the ARC chain."""
        return await dkim_mod.verify(self.resolver, raw, budget)

    async def dmarc(
        self,
        raw: bytes,
        spf: SpfOutcome | None,
        dkim: DkimOutcome | None,
        budget: Budget | None = None,
    ) -> DmarcOutcome:
        """DMARC for the From domain, given the SPF and DKIM outcomes."""
        spf_result, spf_domain = _spf_identity(spf)
        dkim_domains = dkim.passing_domains() if dkim is not None else []
        return await dmarc_mod.check(
            self.resolver, raw, spf_result, spf_domain, dkim_domains, budget, self._rng
        )

    # --- everything at once ------------------------------------------------------------
    async def run_all(self, context: MessageContext) -> list[Hit]:
        """The hits of every check, within the message budget."""
        return (await self.check(context)).hits

    async def check(self, context: MessageContext) -> NetReport:
        started = time.monotonic()
        budget = self.budget()
        s = self.settings
        report = NetReport()
        ip = context.client_ip
        tasks: dict[str, asyncio.Task[Any]] = {}

        def start(name: str, coro: Coroutine[Any, Any, Any]) -> None:
            tasks[name] = asyncio.ensure_future(coro)

        if ip and s.dnsbl_sites and not context.smtp_whitelisted:
            start("dnsbl", self.dnsbl(ip, budget))
        if s.rbl_checks and s.scoring_sites:
            relays = (
                relay_ips(context.raw, s.trusted_networks, skip=[ip] if ip else [])
                if context.raw
                else []
            )
            if ip or relays:
                start("rbl", self.rbl(ip, relays, budget))
        if context.uris and s.uribl_sites:
            start("uribl", self.uribl(context.uris, budget))
        if ip and (context.sender or context.helo):
            start("spf", self.spf(ip, context.helo, context.sender, budget))
        if context.raw:
            start("dkim", self.dkim(context.raw, budget))
            start("dmarc", self._dmarc_after(context.raw, tasks, budget))
        if tasks:
            _, pending = await asyncio.wait(tasks.values(), timeout=budget.remaining() + 0.05)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        for name, task in tasks.items():
            if task.cancelled() or not task.done():
                report.timed_out.append(name)
                continue
            error = task.exception()
            if error is not None:  # a bug, not bad input: keep the verdict, name the check
                report.timed_out.append(f"{name} ({type(error).__name__}: {error})")
                continue
            value = task.result()
            if name == "dnsbl":
                report.dnsbl = value
            elif name == "rbl":
                report.hits.extend(value)
            elif name == "uribl":
                report.uribl = value
                report.hits.extend(value.hits)
            elif name == "spf":
                report.spf = value
                report.hits.extend(value.hits())
            elif name == "dkim":
                report.dkim = value
            elif name == "dmarc":
                report.dmarc = value
        if report.dkim is not None:
            author = report.dmarc.from_domain if report.dmarc is not None else None
            if author is None and context.raw:
                author = dmarc_mod.from_domain(context.raw)[0]
            report.hits.extend(report.dkim.hits(author, _domain_of(context.sender)))
        if report.dmarc is not None:
            report.hits.extend(report.dmarc.hits())
        report.smtp_reject = self._smtp_reject(context, report)
        report.authentication_results = authresults_header(
            s.authserv_id, report.spf, report.dkim, report.dmarc, context.sender, context.helo
        )
        report.elapsed = time.monotonic() - started
        return report

    async def _dmarc_after(
        self, raw: bytes, tasks: dict[str, asyncio.Task[Any]], budget: Budget
    ) -> DmarcOutcome:
        author, why = dmarc_mod.from_domain(raw)
        if author is None:
            return DmarcOutcome("permerror", None, detail=why)
        policy = asyncio.ensure_future(dmarc_mod.lookup_policy(self.resolver, author, budget))
        spf = await tasks["spf"] if "spf" in tasks else None
        dkim = await tasks["dkim"]
        record, status = await policy
        if record is None:
            return DmarcOutcome(status, author)
        spf_result, spf_domain = _spf_identity(spf)
        return dmarc_mod.evaluate(
            author, record, spf_result, spf_domain, dkim.passing_domains(), self._rng
        )

    def _smtp_reject(self, context: MessageContext, report: NetReport) -> str | None:
        if context.smtp_whitelisted:
            return None
        if report.dnsbl is not None and report.dnsbl.blocked:
            return report.dnsbl.reply_text()
        if report.spf is not None:
            action, text = report.spf.smtp_action(self.settings.spf)
            if action == "reject":
                return f"554 5.7.1 {text}"
        if report.dmarc is not None:
            action, text = report.dmarc.smtp_action(self.settings.dmarc_reject)
            if action == "reject":
                return f"550 {text}"
        return None


def _spf_identity(spf: SpfOutcome | None) -> tuple[str | None, str | None]:
    """SPF's result and domain for DMARC: the MAIL FROM identity (HELO for the null sender)."""
    if spf is None:
        return None, None
    return spf.mailfrom.result, spf.mailfrom.domain or None
