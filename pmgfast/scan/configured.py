"""The scanners a configuration asks for, built one way for the milter and ``pmgfast scan``.

Order is PMG's: the custom check script (``admin.custom_check``), then ClamAV
(``admin.clamav``), then the spam engine. The pipeline runs the spam scanner only when the rule
set needs a spam score for the message's direction (PMG's lazy analysis). Network tests
(DNSBL, URIBL, SPF, DKIM, DMARC) join the spam score unless ``pmgfast.spam_network_tests`` is
off; they ask the resolvers of ``pmgfast.dns_nameservers`` (default: the system's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from pmgfast.config import ConfigError, Settings
from pmgfast.scan.base import Scanner
from pmgfast.scan.custom import from_settings as custom_check


def configured_scanners(
    settings: Settings,
    fail_open: bool,
    connect: Callable[[], psycopg.Connection] | None,
) -> tuple[Scanner, ...]:
    """Every scanner ``settings`` enables; ``connect`` opens the database (Bayes, AWL) lazily."""
    from pmgfast.clamav.conf import ClamdConfError
    from pmgfast.clamav.scanner import from_config as clamav_scanner
    from pmgfast.spam.scanner import from_config as spam_scanner

    conf = settings.pmg
    check = custom_check(
        bool(conf.get("admin", "custom_check")), str(conf.get("admin", "custom_check_path"))
    )
    try:
        virus = clamav_scanner(conf, fail_open=fail_open)
    except ClamdConfError as err:
        raise ConfigError(conf.path, None, "pmgfast.clamd_conf", str(err)) from None
    spam = (
        spam_scanner(conf, settings.config_dir, connect=connect, net=_network_checks(settings))
        if conf.get("pmgfast", "spam_scanner")
        else None
    )
    return tuple(s for s in (check, virus, spam) if s is not None)


def _network_checks(settings: Settings) -> Any:
    if not settings.pmg.get("pmgfast", "spam_network_tests"):
        return None
    from pmgfast.netcheck.checks import NetSettings, NetworkChecks

    conf = settings.pmg
    try:
        net_settings = NetSettings.from_config(
            conf, trusted_networks=[n.network for n in settings.mynetworks]
        )
    except ValueError as err:
        raise ConfigError(conf.path, None, "mail.dnsbl_sites", str(err)) from None
    return NetworkChecks(net_settings)
