"""The full Postfix configuration of ``pmgfast config sync``: main.cf, master.cf and the tables.

PMG renders ``/etc/postfix/main.cf`` and ``master.cf`` from templates and keeps its tables as
``hash:`` maps it runs ``postmap`` on. pmgfast renders every file from a template (an admin's
copy in ``<config dir>/templates/`` wins, as ``/etc/pmg/templates`` does in PMG) and uses table
types Postfix reads as text (``texthash:``, ``regexp:``, ``cidr:``), so there is no ``.db`` to
rebuild and a rendered file that did not change means Postfix need not be told.

The templates see PMG's variables (``pmg.<section>.<key>``, ``dns.hostname|domain|fqdn``,
``postfix.mynetworks|dnsbl_sites|dnsbl_threshold|usepolicy|int_ip``) plus pmgfast's:

- ``paths``: ``config_dir``, ``queue_dir``, ``data_dir``, ``tls_cert`` (``pmg-tls.pem``);
- ``tables``: each table's lookup as main.cf writes it (``texthash:/etc/postfix/pmgfast/...``);
- ``lists``: the lines of the relay-domain, transport, TLS-policy and TLS-inbound tables;
- ``whitelist``: the SMTP whitelist as table keys (:class:`~pmgfast.smtpwl.WhitelistMaps`);
- ``postfix.relay_transport`` / ``postfix.default_transport``: ``relay``/``smarthost``
  as next hops, ``gate``: whether the incoming smtpd runs the RCPT stage after the queue;
- the milter wiring's variables (:func:`~pmgfast.postfix.render.wiring_context`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmgfast.config import Settings
from pmgfast.config.lists import TransportEntry
from pmgfast.postfix.networks import host_address, trusted_networks
from pmgfast.postfix.render import wiring_context
from pmgfast.render.context import pmg_values
from pmgfast.smtpwl.maps import WhitelistMaps

# table name -> Postfix lookup type
TABLES = {
    "relay_domains": "texthash",
    "transport": "texthash",
    "tls_policy": "texthash",
    "tls_inbound_domains": "texthash",
    "senderaccess": "regexp",
    "rcptaccess": "regexp",
    "clientaccess": "cidr",
    "postscreen_access": "cidr",
}
WHITELIST_TABLES = ("senderaccess", "rcptaccess", "clientaccess", "postscreen_access")
TLS_CERT = "pmg-tls.pem"


@dataclass(frozen=True)
class PostfixLayout:
    """Where Postfix's files are (``pmgfast.postfix_*`` keys) and where the certificate is."""

    config_dir: Path = Path("/etc/postfix")
    queue_dir: Path = Path("/var/spool/postfix")
    data_dir: Path = Path("/var/lib/postfix")
    tls_cert: Path = Path("/etc/pmgfast") / TLS_CERT

    @property
    def tables_dir(self) -> Path:
        return self.config_dir / "pmgfast"

    def table_path(self, name: str) -> Path:
        return self.tables_dir / name

    def lookup(self, name: str) -> str:
        return f"{TABLES[name]}:{self.table_path(name)}"


def layout_from_config(conf: Any, config_dir: Path) -> PostfixLayout:
    return PostfixLayout(
        Path(str(conf.get("pmgfast", "postfix_dir"))),
        Path(str(conf.get("pmgfast", "postfix_queue_dir"))),
        Path(str(conf.get("pmgfast", "postfix_data_dir"))),
        config_dir / TLS_CERT,
    )


def dns_info() -> dict[str, str]:
    """PMG's ``dns`` variables: the node name, its domain (``localdomain`` without one)."""
    fqdn = socket.getfqdn()
    hostname = socket.gethostname().split(".", 1)[0] or "localhost"
    domain = fqdn.split(".", 1)[1] if "." in fqdn else "localdomain"
    return {"hostname": hostname, "domain": domain, "fqdn": f"{hostname}.{domain}"}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _host(host: str, brackets: bool) -> str:
    """A next-hop host: ``[host]`` to skip MX lookups (always for an IP address)."""
    host = host.strip("[]")
    if brackets or _is_ip(host):
        return f"[{host}]"
    return host


def transport_line(entry: TransportEntry) -> str:
    """One transport(5) line as PMG writes it: ``lmtp:inet:host:port`` for LMTP,
    ``smtp:[host]:port`` without MX lookups (and for IP addresses), else ``smtp:host:port``."""
    if entry.protocol == "lmtp":
        return f"{entry.target} lmtp:inet:{entry.host.strip('[]')}:{entry.port}"
    return f"{entry.target} smtp:{_host(entry.host, not entry.use_mx)}:{entry.port}"


def relay_transport(conf: Any) -> str | None:
    """``relay_transport`` from mail.relay, relayport, relayprotocol and relaynomx."""
    relay = conf.get("mail", "relay")
    if not relay:
        return None
    port = conf.get("mail", "relayport")
    if conf.get("mail", "relayprotocol") == "lmtp":
        return f"lmtp:inet:{str(relay).strip('[]')}:{port}"
    return f"smtp:{_host(str(relay), bool(conf.get('mail', 'relaynomx')))}:{port}"


def default_transport(conf: Any) -> str | None:
    """``default_transport`` from mail.smarthost and smarthostport (outgoing mail)."""
    smarthost = conf.get("mail", "smarthost")
    if not smarthost:
        return None
    return f"smtp:{_host(str(smarthost), False)}:{conf.get('mail', 'smarthostport')}"


def dnsbl_sites(conf: Any) -> str:
    """mail.dnsbl_sites split as PMG's ``split_list`` does, joined by commas."""
    text = str(conf.get("mail", "dnsbl_sites") or "")
    return ",".join(s for s in re.split(r"[\s,;]+", text) if s)


def filter_ports(conf: Any) -> tuple[int, int]:
    first, _, second = str(conf.get("pmgfast", "postfix_filter_ports")).partition(",")
    return int(first), int(second)


@dataclass
class Lists:
    domains: list[str] = field(default_factory=list)
    transport: list[str] = field(default_factory=list)
    tls_policy: list[str] = field(default_factory=list)
    tls_inbound_domains: list[str] = field(default_factory=list)


def postfix_context(
    settings: Settings,
    layout: PostfixLayout,
    whitelist: WhitelistMaps | None = None,
    node_ip: str | None = None,
    dns: dict[str, str] | None = None,
) -> dict[str, object]:
    """The variables of the Postfix templates (module docstring)."""
    conf = settings.pmg
    node_ip = host_address() if node_ip is None else node_ip or None
    context = wiring_context(conf, None, "", filter_ports(conf))
    smtp_checks = bool(
        conf.get("mail", "greylist") or conf.get("mail", "greylist6") or conf.get("mail", "spf")
    )
    int_ip = node_ip
    if int_ip is not None and ":" in int_ip:
        int_ip = f"[{int_ip}]"
    context.update(
        pmg=pmg_values(conf),
        dns=dns or dns_info(),
        postfix={
            "mynetworks": " ".join(trusted_networks(settings, node_ip)),
            "dnsbl_sites": dnsbl_sites(conf),
            "dnsbl_threshold": conf.get("mail", "dnsbl_threshold"),
            "usepolicy": smtp_checks,
            "int_ip": int_ip or "",
            "relay_transport": relay_transport(conf) or "",
            "default_transport": default_transport(conf) or "",
            "gate": smtp_checks and context["mode"] == "after-queue",
        },
        paths={
            "config_dir": str(layout.config_dir),
            "queue_dir": str(layout.queue_dir),
            "data_dir": str(layout.data_dir),
            "tls_cert": str(layout.tls_cert),
        },
        tables={name: layout.lookup(name) for name in TABLES},
        lists=Lists(
            domains=[e.domain for e in settings.domains],
            transport=[transport_line(e) for e in settings.transport],
            tls_policy=[e.render() for e in settings.tls_policy],
            tls_inbound_domains=[e.domain for e in settings.tls_inbound_domains],
        ),
        whitelist=whitelist or WhitelistMaps(),
    )
    return context
