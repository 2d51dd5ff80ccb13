"""The one-entry-per-line configuration files beside pmg.conf.

| file | one line | meaning |
|---|---|---|
| ``domains`` | ``example.com  # comment`` | relay domains |
| ``mynetworks`` | ``192.0.2.0/24  # comment`` | trusted networks |
| ``transport`` | ``example.com  smtp:[mx.example.com]:25`` | next hop per domain or address |
| ``tls_policy`` | ``example.com  encrypt  # comment`` | per destination TLS policy |
| ``tls_inbound_domains`` | ``example.com`` | sender domains that must use TLS inbound |
| ``dkim/domains`` | ``example.com  # comment`` | domains whose outgoing mail is DKIM signed |

A line starting with ``#`` is a comment; a ``# ...`` after the entry is that entry's comment.
The transport line is Postfix's transport(5) syntax, as PMG writes it: ``[host]`` means
"no MX lookup", and the protocol is ``smtp`` or ``lmtp``. Every entry is checked on load and the
first bad one raises :class:`~pmgfast.config.pmgconf.ConfigError` with its line.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pmgfast.config.pmgconf import ConfigError, atomic_write

_DOMAIN = re.compile(
    r"(?=.{1,253}$)(\*\.)?([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"[^\s@]+@[^\s@]+")
TLS_POLICIES = ("none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure")


def check_domain(text: str) -> str:
    if not _DOMAIN.fullmatch(text):
        raise ValueError(f"{text!r} is not a valid domain name")
    return text.lower()


@dataclass(frozen=True)
class DomainEntry:
    domain: str
    comment: str = ""

    def render(self) -> str:
        return self.domain


@dataclass(frozen=True)
class NetworkEntry:
    network: str
    comment: str = ""

    def render(self) -> str:
        return self.network


@dataclass(frozen=True)
class TransportEntry:
    """Where mail for one domain or address goes next."""

    target: str
    host: str
    protocol: str = "smtp"
    port: int = 25
    use_mx: bool = True
    comment: str = ""

    def render(self) -> str:
        host = self.host if self.use_mx and self.protocol == "smtp" else f"[{self.host}]"
        return f"{self.target} {self.protocol}:{host}:{self.port}"


@dataclass(frozen=True)
class TlsPolicyEntry:
    destination: str
    policy: str
    comment: str = ""

    def render(self) -> str:
        return f"{self.destination} {self.policy}"


def _domain(fields: list[str]) -> DomainEntry:
    if len(fields) != 1:
        raise ValueError(f"expected one domain, found {len(fields)} fields")
    return DomainEntry(check_domain(fields[0]))


def _network(fields: list[str]) -> NetworkEntry:
    if len(fields) != 1:
        raise ValueError(f"expected one network, found {len(fields)} fields")
    try:
        network = ipaddress.ip_network(fields[0], strict=False)
    except ValueError:
        raise ValueError(f"{fields[0]!r} is not an IP address or network (CIDR)") from None
    return NetworkEntry(str(network) if "/" in fields[0] else fields[0])


_NEXT_HOP = re.compile(r"(smtp|lmtp):(\[([^\]]+)\]|([^:\[\]]+))(?::(\d+))?")


def _transport(fields: list[str]) -> TransportEntry:
    if len(fields) != 2:
        raise ValueError("expected 'DOMAIN-OR-ADDRESS PROTOCOL:HOST[:PORT]'")
    target, hop = fields
    if "@" in target:
        if not _ADDRESS.fullmatch(target):
            raise ValueError(f"{target!r} is not a valid mail address")
        target = target.lower()
    else:
        target = check_domain(target.lstrip("."))
    match = _NEXT_HOP.fullmatch(hop)
    if match is None:
        raise ValueError(
            f"{hop!r} is not a next hop (expected smtp:HOST:PORT, smtp:[HOST]:PORT "
            "or lmtp:HOST:PORT)"
        )
    protocol, bracketed, plain, port = (
        match.group(1),
        match.group(3),
        match.group(4),
        match.group(5),
    )
    port_number = int(port) if port else 25
    if not 1 <= port_number <= 65535:
        raise ValueError(f"port {port_number} is out of range (allowed: 1 - 65535)")
    return TransportEntry(
        target=target,
        host=bracketed or plain,
        protocol=protocol,
        port=port_number,
        use_mx=protocol == "smtp" and bracketed is None,
    )


def _tls_policy(fields: list[str]) -> TlsPolicyEntry:
    if len(fields) != 2:
        raise ValueError("expected 'DESTINATION POLICY'")
    destination, policy = fields
    if policy not in TLS_POLICIES:
        raise ValueError(f"{policy!r} is not a TLS policy (allowed: {' | '.join(TLS_POLICIES)})")
    if not destination.startswith("["):
        check_domain(destination.lstrip("."))
    return TlsPolicyEntry(destination.lower(), policy)


E = TypeVar("E", DomainEntry, NetworkEntry, TransportEntry, TlsPolicyEntry)


@dataclass(frozen=True)
class ListFile(Generic[E]):
    """One list file: its name under the config directory and how to read one entry."""

    name: str
    read_entry: Callable[[list[str]], E]
    key: Callable[[E], str]

    def path(self, config_dir: Path) -> Path:
        return config_dir / self.name

    def parse(self, text: str, path: Path | str) -> list[E]:
        entries: list[E] = []
        seen: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            body, _, comment = line.partition("#")
            fields = body.split()
            if not fields:
                continue
            try:
                entry = self.read_entry(fields)
            except ValueError as err:
                raise ConfigError(path, number, self.name, str(err)) from None
            ident = self.key(entry)
            if ident in seen:
                raise ConfigError(
                    path,
                    number,
                    self.name,
                    f"{ident!r} is listed twice (first on line {seen[ident]})",
                )
            seen[ident] = number
            entries.append(_with_comment(entry, comment.strip()))
        return entries

    def load(self, config_dir: Path) -> list[E]:
        path = self.path(config_dir)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return self.parse(text, path)

    def render(self, entries: list[E]) -> str:
        lines = []
        for entry in entries:
            line = entry.render()
            lines.append(f"{line}  # {entry.comment}" if entry.comment else line)
        return "".join(f"{line}\n" for line in lines)

    def save(self, config_dir: Path, entries: list[E]) -> None:
        text = self.render(entries)
        self.parse(text, self.path(config_dir))  # never write what cannot be read back
        atomic_write(self.path(config_dir), text)


def _with_comment(entry: E, comment: str) -> E:
    if not comment:
        return entry
    return type(entry)(**{**entry.__dict__, "comment": comment})


DOMAINS = ListFile("domains", _domain, lambda e: e.domain)
MYNETWORKS = ListFile("mynetworks", _network, lambda e: e.network)
TRANSPORT = ListFile("transport", _transport, lambda e: e.target)
TLS_POLICY = ListFile("tls_policy", _tls_policy, lambda e: e.destination)
TLS_INBOUND_DOMAINS = ListFile("tls_inbound_domains", _domain, lambda e: e.domain)
DKIM_DOMAINS = ListFile("dkim/domains", _domain, lambda e: e.domain)

LIST_FILES: tuple[ListFile, ...] = (
    DOMAINS,
    MYNETWORKS,
    TRANSPORT,
    TLS_POLICY,
    TLS_INBOUND_DOMAINS,
    DKIM_DOMAINS,
)
