"""DNS for the RCPT stage: backup-MX lookups and SPF, on one event loop thread per worker.

The network checks (:mod:`pmgfast.netcheck`) are asynchronous; libmilter calls the RCPT stage
from a thread per SMTP session. :class:`SmtpDns` runs one event loop in a thread of its own
(started on first use, so after the worker has forked) and every lookup of every session runs
on it: the resolver and its cache are only ever touched from that loop, and a session thread
waits at most ``budget`` seconds for an answer.

- :meth:`SmtpDns.mx_addresses`: the A/AAAA addresses of every MX of a domain (PMG's backup MX
  exemption), cached per domain for ``mx_ttl`` seconds as pmgpolicy caches it per process;
- :meth:`SmtpDns.spf`: SPF for MAIL FROM and HELO (:class:`~pmgfast.netcheck.spf.SpfOutcome`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any, TypeVar

from pmgfast.netcheck import Budget, NetSettings, NetworkChecks
from pmgfast.netcheck.spf import SpfOutcome

T = TypeVar("T")


class SmtpDns:
    def __init__(self, settings: NetSettings, budget: float | None = None, mx_ttl: int = 600):
        self.settings = settings
        self.budget = budget if budget is not None else settings.message_budget
        self.mx_ttl = mx_ttl
        self._checks: NetworkChecks | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._mx: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()

    # --- the loop thread -----------------------------------------------------------------
    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    self._checks = NetworkChecks(self.settings)
                    ready.set()
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="smtp-dns", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def _run(self, make: Any) -> Any:
        """Run the coroutine ``make(checks, budget)`` builds on the loop; None on timeout."""
        loop = self._ensure()
        budget_s = self.budget

        async def job() -> Any:
            assert self._checks is not None
            return await make(self._checks, Budget(budget_s))

        future = asyncio.run_coroutine_threadsafe(job(), loop)
        try:
            return future.result(budget_s + 0.5)
        except (concurrent.futures.TimeoutError, TimeoutError):
            future.cancel()
            return None

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(5)

    # --- the questions ---------------------------------------------------------------------
    def mx_addresses(self, domain: str) -> frozenset[str]:
        """Every address of every MX host of ``domain`` (empty when there is none or DNS
        does not answer)."""
        domain = domain.lower().rstrip(".")
        now = time.monotonic()
        with self._lock:
            entry = self._mx.get(domain)
            if entry is not None and entry[0] > now:
                return entry[1]
        found = self._run(lambda checks, budget: _mx_addresses(checks, domain, budget))
        addresses = frozenset(found or ())
        with self._lock:
            self._mx[domain] = (now + self.mx_ttl, addresses)
            self._mx.move_to_end(domain)
            while len(self._mx) > 10000:
                self._mx.popitem(last=False)
        return addresses

    def spf(self, ip: str, helo: str, sender: str) -> SpfOutcome | None:
        """SPF for MAIL FROM (HELO for the empty sender); None when it ran out of time."""
        result = self._run(lambda checks, budget: checks.spf(ip, helo, sender, budget))
        return result if isinstance(result, SpfOutcome) else None


async def _mx_addresses(checks: NetworkChecks, domain: str, budget: Budget) -> list[str]:
    answer = await checks.resolver.query(domain, "MX", budget)
    hosts = sorted(
        {r.exchange.to_text(True).lower() for r in answer.records if hasattr(r, "exchange")}
    )
    jobs: list[Coroutine[Any, Any, Any]] = [
        checks.resolver.query(host, rtype, budget) for host in hosts for rtype in ("A", "AAAA")
    ]
    found: list[str] = []
    for lookup in await asyncio.gather(*jobs):
        found.extend(lookup.addresses())
    return found
