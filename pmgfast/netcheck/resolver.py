"""Asynchronous DNS lookups for the network checks, on dnspython.

One :class:`Resolver` serves every message of a worker: it asks the configured nameserver(s)
(a site's own recursive resolver, or the loopback test server), keeps one cache keyed by
(name, type) that honours the answers' TTLs (negative answers by the SOA minimum), and shares
one query between every caller that asks the same question at the same time. Each lookup is
bounded twice: by the per-query timeout and by the :class:`Budget` of the message it serves, so
a dead nameserver costs a message at most its budget, never a hang.

A lookup never raises for DNS trouble: the :class:`Lookup` it returns says ``ok``, ``nxdomain``,
``nodata``, ``timeout`` or ``error`` and the checks decide what that means for them (a DNSBL
treats a timeout as "not listed", SPF as ``temperror``).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
import dns.rrset


class Status(Enum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Lookup:
    """The outcome of one question: status, the records of the asked type, and the canonical
    name when the answer was (or ended in) a CNAME."""

    name: str
    rdtype: str
    status: Status
    records: tuple[Any, ...] = ()
    canonical: str | None = None
    detail: str = ""

    @property
    def temporary(self) -> bool:
        """True for a failure that may go away (timeout, SERVFAIL, no nameserver answered)."""
        return self.status in (Status.TIMEOUT, Status.ERROR)

    def addresses(self) -> list[str]:
        """A/AAAA records as address text."""
        return [r.address for r in self.records if hasattr(r, "address")]

    def texts(self) -> list[bytes]:
        """TXT records, each one's strings joined (RFC 7208 3.3, RFC 6376 3.6.2.2)."""
        return [b"".join(r.strings) for r in self.records if hasattr(r, "strings")]


@dataclass(slots=True)
class Budget:
    """The time one message may spend on DNS: a deadline shared by all its lookups."""

    seconds: float
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline


def parse_nameservers(text: str | None) -> list[tuple[str, int]]:
    """``"127.0.0.1:5353, [::1]:53, 192.0.2.1"`` as (address, port) pairs; port 53 if absent."""
    servers: list[tuple[str, int]] = []
    for item in (text or "").replace(",", " ").split():
        host, port = item, 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest.startswith(":"):
                port = int(rest[1:])
        elif item.count(":") == 1:
            host, _, port_text = item.partition(":")
            port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError(f"nameserver port out of range in {item!r}")
        servers.append((host, port))
    return servers


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    shared: int = 0  # callers that joined a query already in flight
    queries: int = 0  # questions actually sent


Key = tuple[str, dns.rdatatype.RdataType]


class Resolver:
    """Shared, caching, budgeted asynchronous resolver (see the module docstring)."""

    def __init__(
        self,
        nameservers: str | list[tuple[str, int]] | None = None,
        timeout: float = 2.0,
        cache_size: int = 20000,
        negative_ttl: int = 300,
        max_ttl: int = 86400,
    ) -> None:
        if isinstance(nameservers, str) or nameservers is None:
            nameservers = parse_nameservers(nameservers)
        self.timeout = timeout
        self.cache_size = cache_size
        self.negative_ttl = negative_ttl
        self.max_ttl = max_ttl
        self.stats = CacheStats()
        self._cache: OrderedDict[tuple[str, dns.rdatatype.RdataType], tuple[float, Lookup]] = (
            OrderedDict()
        )
        self._inflight: dict[tuple[str, dns.rdatatype.RdataType], asyncio.Task[Lookup]] = {}
        if nameservers:
            self._dns = dns.asyncresolver.Resolver(configure=False)
            self._dns.nameservers = [
                dns.nameserver.Do53Nameserver(host, port) for host, port in nameservers
            ]
        else:
            self._dns = dns.asyncresolver.Resolver()  # the system's /etc/resolv.conf
        self._dns.cache = None
        self._dns.use_edns(0, 0, 1232)
        self._dns.timeout = timeout
        self._dns.lifetime = timeout

    def clear(self) -> None:
        """Forget every cached answer."""
        self._cache.clear()

    def cached(self, name: str, rdtype: str) -> Lookup | None:
        """The cached, unexpired answer, if any (no query is sent)."""
        key = (_key_name(name), dns.rdatatype.from_text(rdtype))
        entry = self._cache.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    async def query(self, name: str, rdtype: str, budget: Budget | None = None) -> Lookup:
        """Answer one question from the cache, from a query in flight, or from the server."""
        try:
            key = (_key_name(name), dns.rdatatype.from_text(rdtype))
        except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
            return Lookup(name, rdtype, Status.NXDOMAIN, detail=f"invalid name: {exc}")
        entry = self._cache.get(key)
        now = time.monotonic()
        if entry is not None:
            if entry[0] > now:
                self.stats.hits += 1
                self._cache.move_to_end(key)
                return entry[1]
            del self._cache[key]
        self.stats.misses += 1
        wait = self.timeout if budget is None else min(self.timeout, budget.remaining())
        if wait <= 0:
            return Lookup(name, rdtype, Status.TIMEOUT, detail="message DNS budget spent")
        loop = asyncio.get_running_loop()
        task = self._inflight.get(key)
        if task is not None and task.get_loop() is loop and not task.done():
            self.stats.shared += 1
        else:
            task = loop.create_task(self._fetch(key, name, rdtype))
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._forget, key))
        try:
            return await asyncio.wait_for(asyncio.shield(task), wait)
        except TimeoutError:
            return Lookup(name, rdtype, Status.TIMEOUT, detail=f"no answer within {wait:.3f} s")

    def _forget(self, key: Key, task: asyncio.Task[Lookup]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]

    async def _fetch(self, key: Key, name: str, rdtype: str) -> Lookup:
        self.stats.queries += 1
        qname, qtype = key
        try:
            answer = await self._dns.resolve(
                qname, qtype, search=False, raise_on_no_answer=False, lifetime=self.timeout
            )
        except dns.resolver.NXDOMAIN as exc:
            response = next(iter(exc.responses().values()), None)
            result = Lookup(name, rdtype, Status.NXDOMAIN)
            self._store(key, result, self._negative_ttl(response))
            return result
        except dns.exception.Timeout as exc:
            return Lookup(name, rdtype, Status.TIMEOUT, detail=str(exc))
        except dns.resolver.NoNameservers as exc:
            loop_target = _cname_loop(exc, qname)
            if loop_target is None:
                return Lookup(name, rdtype, Status.ERROR, detail=f"NoNameservers: {exc}")
            # a CNAME loop: no data, but say where the name points so that a caller that
            # follows CNAMEs itself (pyspf) detects the loop and treats it as RFC 7208 5.5 says
            result = Lookup(name, rdtype, Status.NODATA, canonical=loop_target, detail="CNAME loop")
            self._store(key, result, self.negative_ttl)
            return result
        except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel) as exc:
            return Lookup(name, rdtype, Status.NXDOMAIN, detail=f"invalid name: {exc}")
        except dns.exception.DNSException as exc:
            return Lookup(name, rdtype, Status.ERROR, detail=f"{type(exc).__name__}: {exc}")
        except (OSError, ValueError, UnicodeError) as exc:
            return Lookup(name, rdtype, Status.ERROR, detail=f"{type(exc).__name__}: {exc}")
        canonical = answer.canonical_name.to_text(omit_final_dot=True).lower()
        canonical_or_none = canonical if canonical != qname.rstrip(".") else None
        if answer.rrset is None:
            result = Lookup(name, rdtype, Status.NODATA, canonical=canonical_or_none)
            ttl = self._negative_ttl(answer.response)
            if canonical_or_none is not None:
                ttl = min(ttl, _min_ttl(answer.response.answer))
        else:
            result = Lookup(
                name, rdtype, Status.OK, tuple(answer.rrset), canonical=canonical_or_none
            )
            ttl = _min_ttl(answer.response.answer)
        self._store(key, result, ttl)
        return result

    def _negative_ttl(self, response: dns.message.Message | None) -> int:
        if response is not None:
            for rrset in response.authority:
                if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
                    return min(rrset.ttl, next(iter(rrset)).minimum, self.negative_ttl)
        return self.negative_ttl

    def _store(self, key: Key, result: Lookup, ttl: int) -> None:
        ttl = min(ttl, self.max_ttl)
        if ttl <= 0 or self.cache_size <= 0:
            return
        self._cache[key] = (time.monotonic() + ttl, result)
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)


def _key_name(name: str) -> str:
    """The cache key of a name: lower case, absolute; raises for a name DNS cannot carry."""
    return dns.name.from_text(name.rstrip(".") + ".").to_text().lower()


def _cname_loop(exc: dns.resolver.NoNameservers, qname: str) -> str | None:
    """The CNAME target of ``qname`` when the server's answer was a CNAME loop."""
    for error in exc.kwargs.get("errors", []):
        if len(error) > 4 and isinstance(error[3], dns.message.ChainTooLong) and error[4]:
            for rrset in error[4].answer:
                if rrset.rdtype == dns.rdatatype.CNAME and rrset.name.to_text().lower() == qname:
                    return str(next(iter(rrset)).target.to_text(omit_final_dot=True)).lower()
    return None


def _min_ttl(rrsets: list[dns.rrset.RRset]) -> int:
    return min((r.ttl for r in rrsets), default=0)
