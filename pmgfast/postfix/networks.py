"""The trusted networks, as Postfix's ``mynetworks`` and pmgfast's RCPT stage both use them.

PMG's list (``PMG::Config::get_template_vars``): ``127.0.0.0/8`` and ``[::1]/128``, the node's
own address, every entry of the ``mynetworks`` list, the hosts of the ``transport`` list that
are IP addresses (``/32``, ``/128``) and the default relay (``mail.relay``) when it is an IP
address. IPv6 networks are written in brackets, as Postfix wants them in ``mynetworks``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from pmgfast.config import Settings


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def postfix_network(text: str) -> str:
    """``2001:db8::/32`` as ``[2001:db8::]/32``; IPv4 as it is."""
    network = ipaddress.ip_network(text.strip("[]").replace("]/", "/"), strict=False)
    if network.version == 6:
        return f"[{network.network_address}]/{network.prefixlen}"
    return str(network) if "/" in text else str(network.network_address) + "/32"


def host_address() -> str | None:
    """This node's address (its host name resolved), unless that is a loopback address."""
    try:
        address = _ip(socket.gethostbyname(socket.gethostname()))
    except OSError:
        return None
    if address is None or address.is_loopback:
        return None
    return str(address)


def trusted_networks(settings: Settings, node_ip: str | None = None) -> list[str]:
    """PMG's mynetworks in Postfix notation, in PMG's order, each once."""
    found = ["127.0.0.0/8", "[::1]/128"]
    node = _ip(node_ip)
    if node is not None:
        found.append(postfix_network(f"{node}/{node.max_prefixlen}"))
    found += [postfix_network(e.network) for e in settings.mynetworks]
    hosts: Iterable[str | None] = [e.host for e in settings.transport]
    relay = settings.pmg.get("mail", "relay")
    for host in [*hosts, str(relay) if relay else None]:
        address = _ip(host)
        if address is not None:
            found.append(postfix_network(f"{address}/{address.max_prefixlen}"))
    return list(dict.fromkeys(found))
