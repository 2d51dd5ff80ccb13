"""The greylist key: (sender network, normalised sender, recipient), as PMG's pmgpolicy forms it.

- Every attribute is lower-cased (pmgpolicy lower-cases all policy attributes).
- The sender is normalised for VERP and mailing-list addresses: in the local part ``+...`` is
  cut off and every stand-alone run of digits (``\\b\\d+\\b``) becomes ``#``, so
  ``bounce-1234-x@list.example`` and ``bounce-5678-x@list.example`` are one sender.
- The network is the client address with ``mail.greylistmask4`` / ``mail.greylistmask6``
  applied (``192.0.2.0/24``, ``2001:db8::/64``), PostgreSQL's ``network(set_masklen(ip, n))``.
  An IPv4-mapped IPv6 address counts as IPv4. Anything that is not an IP address has no network.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_EXTENSION = re.compile(r"\+.*", re.DOTALL)
_DIGITS = re.compile(r"\b\d+\b", re.ASCII)
MAX_FIELD = 255  # CGreylist.Sender / Receiver are varchar(255)


def normalize_sender(sender: str) -> str:
    """PMG's sender substitutions (see the module docstring); ``""`` stays ``""``."""
    sender = sender.lower()
    user, at, domain = sender.partition("@")
    if not at:
        return sender
    user = _DIGITS.sub("#", _EXTENSION.sub("", user))
    return f"{user}@{domain}"


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_client(ip: str | None) -> IPAddress | None:
    """The client address Postfix gave (``IPv6:`` prefix and brackets tolerated), or None."""
    if not ip:
        return None
    text = ip.strip().strip("[]")
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


_ALL4 = (1 << 32) - 1
_ALL6 = (1 << 128) - 1


def network_of(address: IPAddress, mask4: int, mask6: int) -> str:
    """``address`` with the greylist mask of its family, as CIDR text (what
    ``ipaddress.ip_network(f"{address}/{mask}", strict=False)`` gives, without parsing)."""
    if address.version == 4:
        bits = _ALL4 ^ (_ALL4 >> mask4)
        return f"{ipaddress.IPv4Address(int(address) & bits)}/{mask4}"
    bits = _ALL6 ^ (_ALL6 >> mask6)
    return f"{ipaddress.IPv6Address(int(address) & bits)}/{mask6}"


@dataclass(frozen=True, slots=True)
class Triple:
    """One greylist key, ready for the table (each field fits its column)."""

    ipnet: str
    sender: str
    receiver: str

    @classmethod
    def make(cls, address: IPAddress, sender: str, receiver: str, mask4: int, mask6: int) -> Triple:
        return cls(
            network_of(address, mask4, mask6),
            _fit(normalize_sender(sender)),
            _fit(receiver.lower()),
        )


def _fit(text: str) -> str:
    """A value the varchar(255) columns accept: no NUL byte, at most 255 characters."""
    return text.replace("\0", " ")[:MAX_FIELD]
