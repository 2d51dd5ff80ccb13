"""The SMTP whitelist as Postfix tables (PMG's ``rewrite_postfix_whitelist``).

- ``senderaccess`` (regexp): ``/^address$/ OK`` for a mail address, ``/^.+@domain$/ OK`` for a
  domain, ``/^regex$/ OK`` for a regular expression (``/`` escaped);
- ``rcptaccess`` (regexp): the same for the receiver objects;
- ``clientaccess`` (cidr): ``address OK`` for IP addresses and networks;
- ``postscreen_access`` (cidr): ``address permit``, so postscreen's DNSBL and greeting tests
  let whitelisted clients through (postscreen works on addresses only, admin guide 4.7.11).

Postfix evaluates them in ``smtpd_sender_restrictions`` and ``smtpd_recipient_restrictions``
(an ``OK`` ends the checks: no unknown-sender, HELO or receiver-verification rejection) and in
``postscreen_access_list``. Lines are sorted and unique, as PMG writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pmgfast.rules.objects.who import (
    Domain,
    EMail,
    IPAddress,
    IPNet,
    WhoObject,
    WhoRegex,
)

_SPECIAL = set("\\.^$|?*+()[]{}/")


def quote_regex(text: str) -> str:
    """``text`` as a literal in a Postfix regexp table (PMG's ``quote_regex``)."""
    return "".join(f"\\{c}" if c in _SPECIAL else c for c in text)


def _regex(obj: EMail | Domain | WhoRegex) -> str:
    if isinstance(obj, WhoRegex):
        return "/^" + obj.regex.replace("/", "\\/") + "$/"
    if isinstance(obj, Domain):
        return "/^.+@" + quote_regex(obj.domain) + "$/"
    return "/^" + quote_regex(obj.email) + "$/"


@dataclass(frozen=True)
class WhitelistMaps:
    """The keys of each table (values: ``OK``, ``permit`` for postscreen)."""

    senders: tuple[str, ...] = ()
    receivers: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()


def whitelist_maps(objects: Iterable[WhoObject]) -> WhitelistMaps:
    senders: set[str] = set()
    receivers: set[str] = set()
    clients: set[str] = set()
    for obj in objects:
        if isinstance(obj, (EMail, Domain, WhoRegex)):
            if "\n" in _regex(obj) or "\r" in _regex(obj):
                continue  # cannot be one table line; the object checks forbid it anyway
            (receivers if obj.receiver_test else senders).add(_regex(obj))
        elif isinstance(obj, IPAddress):
            clients.add(obj.ip)
        elif isinstance(obj, IPNet) and obj.network is not None:
            clients.add(str(obj.network))
    # Receiver, ReceiverDomain and ReceiverRegex subclass their sender twins: receiver_test
    # puts them into rcptaccess
    return WhitelistMaps(tuple(sorted(senders)), tuple(sorted(receivers)), tuple(sorted(clients)))
