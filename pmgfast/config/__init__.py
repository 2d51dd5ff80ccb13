"""pmgfast's configuration: pmg.conf plus the list files, in PMG's formats, checked on load.

:func:`load_all` reads everything under a config directory and returns a :class:`Settings`;
any problem raises :class:`ConfigError` naming the file, the line and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pmgfast.config import lists
from pmgfast.config.lists import DomainEntry, NetworkEntry, TlsPolicyEntry, TransportEntry
from pmgfast.config.pmgconf import ConfigError, PmgConf, load

__all__ = ["ConfigError", "PmgConf", "Settings", "load_all"]


@dataclass
class Settings:
    """Everything configured under one config directory."""

    config_dir: Path
    pmg: PmgConf
    domains: list[DomainEntry] = field(default_factory=list)
    mynetworks: list[NetworkEntry] = field(default_factory=list)
    transport: list[TransportEntry] = field(default_factory=list)
    tls_policy: list[TlsPolicyEntry] = field(default_factory=list)
    tls_inbound_domains: list[DomainEntry] = field(default_factory=list)
    dkim_domains: list[DomainEntry] = field(default_factory=list)


def load_all(config_dir: Path) -> Settings:
    """Load and check pmg.conf and every list file; missing files read as empty."""
    return Settings(
        config_dir=config_dir,
        pmg=load(config_dir / "pmg.conf"),
        domains=lists.DOMAINS.load(config_dir),
        mynetworks=lists.MYNETWORKS.load(config_dir),
        transport=lists.TRANSPORT.load(config_dir),
        tls_policy=lists.TLS_POLICY.load(config_dir),
        tls_inbound_domains=lists.TLS_INBOUND_DOMAINS.load(config_dir),
        dkim_domains=lists.DKIM_DOMAINS.load(config_dir),
    )
