"""The relays a message passed before it reached us, from its Received headers.

DNSBL scoring looks at the connecting client and at the untrusted relays before it (as
SpamAssassin's RCVD_IN_* rules do). This module reads the ``from ... [address]`` clause of each
Received header, newest first, and keeps the addresses that are neither internal (loopback,
RFC 1918, CGNAT, link-local, ULA) nor in the site's trusted networks. Malformed headers are
skipped; the result is capped so a forged chain of hundreds of headers costs nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# "from host (helo [1.2.3.4]) by ..." -- the bracketed literal of the from clause, before "by".
_FROM_LITERAL = re.compile(
    rb"\bfrom\b(?:(?!\bby\b).){0,300}?\[(?:IPv6:)?([0-9A-Fa-f:.]{2,45})\]", re.S | re.I
)

INTERNAL: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)


def is_internal(ip: str, trusted: Iterable[IPNetwork] = ()) -> bool:
    """True for an address no public blocklist can know (or one the site trusts)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in (*INTERNAL, *trusted))


def received_headers(raw: bytes, limit: int = 64) -> list[bytes]:
    """The unfolded Received header values of the header block of ``raw``, newest first."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    values: list[bytes] = []
    current: bytearray | None = None
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                current += b" " + line.strip()
            continue
        if current is not None:
            values.append(bytes(current))
            if len(values) >= limit:
                return values
            current = None
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"received":
            current = bytearray(value.strip())
    if current is not None:
        values.append(bytes(current))
    return values


def relay_ips(
    raw: bytes, trusted: Iterable[IPNetwork] = (), skip: Iterable[str] = (), limit: int = 5
) -> list[str]:
    """Untrusted relay addresses from the Received chain, newest first, without duplicates."""
    trusted = tuple(trusted)
    seen = {s for s in skip}
    found: list[str] = []
    for header in received_headers(raw):
        match = _FROM_LITERAL.search(header)
        if match is None:
            continue
        text = match.group(1).decode("ascii", "replace")
        try:
            ip = str(ipaddress.ip_address(text))
        except ValueError:
            continue
        if ip in seen or is_internal(ip, trusted):
            continue
        seen.add(ip)
        found.append(ip)
        if len(found) >= limit:
            break
    return found
