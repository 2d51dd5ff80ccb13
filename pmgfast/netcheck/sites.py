"""Blocklist site lists in postscreen's syntax (``postscreen_dnsbl_sites``), and reply filters.

An entry is ``domain[=d.d.d.d][*weight]``: each ``d`` is a number, ``*``, or a bracketed list
of numbers and ``n..m`` ranges separated by ``;`` (``127.0.0.[2..11;20]``). Entries are
separated by commas or white space. Without a filter any reply in 127.0.0.0/8 counts, except
127.255.255.0/24, which blocklists use for errors (Spamhaus: "query refused through a public
resolver"); without a weight the weight is 1. The same domain may appear more than once with
different filters and weights (``list.dnswl.org=127.0.[0..255].0*-2``): every entry whose filter
matches adds its weight, as postscreen does.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

Octet = tuple[tuple[int, int], ...]  # allowed ranges, inclusive

_ENTRY = re.compile(
    r"(?P<domain>[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)\.?"
    r"(?:=(?P<filter>[^*\s]+))?"
    r"(?:\*(?P<weight>[-+]?\d+(?:\.\d+)?))?"
)
_OCTET_ITEM = re.compile(r"(\d{1,3})(?:\.\.(\d{1,3}))?")


@dataclass(frozen=True, slots=True)
class ReplyFilter:
    """Which A-record replies count: one set of ranges per octet."""

    octets: tuple[Octet, Octet, Octet, Octet]

    def matches(self, reply: str) -> bool:
        try:
            parts = [int(p) for p in reply.split(".")]
        except ValueError:
            return False
        if len(parts) != 4:
            return False
        return all(
            any(lo <= value <= hi for lo, hi in ranges)
            for value, ranges in zip(parts, self.octets, strict=True)
        )


@dataclass(frozen=True, slots=True)
class SiteEntry:
    """One configured list: the DNS zone, an optional reply filter and the weight."""

    domain: str
    filter: ReplyFilter | None
    weight: float
    text: str

    def matches(self, reply: str) -> bool:
        if self.filter is not None:
            return self.filter.matches(reply)
        try:
            address = ipaddress.IPv4Address(reply)
        except ValueError:
            return False
        return address in _LOOPBACK_8 and address not in _ERROR_CODES


_LOOPBACK_8 = ipaddress.IPv4Network("127.0.0.0/8")
_ERROR_CODES = ipaddress.IPv4Network("127.255.255.0/24")


def _parse_octet(text: str, entry: str) -> Octet:
    if text == "*":
        return ((0, 255),)
    body = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if text.startswith("[") != text.endswith("]") or not body:
        raise ValueError(f"bad reply filter octet {text!r} in {entry!r}")
    ranges: list[tuple[int, int]] = []
    for item in body.split(";"):
        match = _OCTET_ITEM.fullmatch(item)
        if match is None:
            raise ValueError(f"bad reply filter octet {text!r} in {entry!r}")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if not 0 <= low <= high <= 255:
            raise ValueError(f"reply filter range {item!r} out of 0..255 in {entry!r}")
        ranges.append((low, high))
    if len(ranges) > 1 and not text.startswith("["):
        raise ValueError(f"a list of values needs brackets in {entry!r}")
    return tuple(ranges)


def _split_filter(text: str) -> list[str]:
    """Split d.d.d.d on the dots that are not inside brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "." and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def parse_sites(text: str | None, integer_weights: bool = True) -> tuple[SiteEntry, ...]:
    """Parse a site list; raise ValueError naming the bad entry."""
    entries: list[SiteEntry] = []
    for item in (text or "").replace(",", " ").split():
        match = _ENTRY.fullmatch(item)
        if match is None:
            raise ValueError(f"bad DNS list entry {item!r} (expected domain[=d.d.d.d][*weight])")
        reply_filter = None
        if match.group("filter") is not None:
            octets = _split_filter(match.group("filter"))
            if len(octets) != 4:
                raise ValueError(f"reply filter of {item!r} needs four octets")
            reply_filter = ReplyFilter(tuple(_parse_octet(o, item) for o in octets))  # type: ignore[arg-type]
        weight_text = match.group("weight")
        if weight_text is not None and integer_weights and "." in weight_text:
            raise ValueError(f"weight of {item!r} must be an integer")
        weight = float(weight_text) if weight_text is not None else 1.0
        entries.append(SiteEntry(match.group("domain").lower(), reply_filter, weight, item))
    return tuple(entries)


def reversed_ip(ip: str) -> str:
    """The DNSBL query label of an address: reversed octets, or reversed nibbles for IPv6."""
    address = ipaddress.ip_address(ip.strip("[]"))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.reverse_pointer.rsplit(".", 2)[0]
