"""Network tests of a message: DNSBL, SURBL/URIBL, SPF, DKIM/ARC and DMARC over one resolver.

``resolver`` (async dnspython, shared TTL cache, per-query and per-message budgets), ``sites``
(postscreen's list syntax), ``dnsbl``, ``received``, ``uribl``, ``spf``, ``dkim``, ``dmarc``,
``authresults``; ``checks`` runs them all for one message (:class:`NetworkChecks`).
"""

from pmgfast.netcheck.checks import MessageContext, NetReport, NetSettings, NetworkChecks
from pmgfast.netcheck.hits import Hit
from pmgfast.netcheck.resolver import Budget, Lookup, Resolver, Status

__all__ = [
    "Budget",
    "Hit",
    "Lookup",
    "MessageContext",
    "NetReport",
    "NetSettings",
    "NetworkChecks",
    "Resolver",
    "Status",
]
