"""The Postfix part of ``pmgfast config sync``: targets, their variables, the certificate and
how Postfix is told.

:func:`prepare` returns the Postfix targets (main.cf, master.cf and every table, each with the
``postfix`` service and the ``reload`` action) and their template variables. The SMTP whitelist
tables need the rule database: when it cannot be read they are left as they are (created empty
when missing, since main.cf refers to them) and :attr:`PostfixSync.note` says why, so an
outage never empties a whitelist. With ``mail.tls`` on, the self-signed ``pmg-tls.pem`` is
created when missing (:func:`ensure_tls`).

:func:`runner` tells Postfix: ``postfix -c <postfix_dir> reload`` when that instance runs
(nothing to do when it does not: it reads the new files when it starts), other services through
the default runner (systemd). ``sync --restart`` therefore reloads Postfix exactly when one of
its rendered files changed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pmgfast.config import Settings
from pmgfast.postfix.config import (
    TABLES,
    WHITELIST_TABLES,
    PostfixLayout,
    dns_info,
    layout_from_config,
    postfix_context,
)
from pmgfast.postfix.tls import ensure_certificate
from pmgfast.render.sync import ServiceError, ServiceRunner, systemctl
from pmgfast.render.targets import Target
from pmgfast.rules.objects.who import WhoObject
from pmgfast.smtpwl.maps import whitelist_maps

SERVICE = "postfix"


def placed(path: Path, root: Path | None) -> Path:
    """``path`` under ``sync --root`` (as :mod:`pmgfast.render.sync` places targets)."""
    if root is None:
        return path
    return root / path.relative_to(path.anchor) if path.is_absolute() else root / path


def installed(settings: Settings, root: Path | None = None) -> bool:
    """Whether there is a Postfix to configure: its configuration directory exists."""
    return placed(layout_from_config(settings.pmg, settings.config_dir).config_dir, root).is_dir()


def postfix_targets(layout: PostfixLayout, tables: Iterable[str] = tuple(TABLES)) -> list[Target]:
    """main.cf, master.cf and the named tables; all reload Postfix when they change."""
    targets = [
        Target("main.cf.in", layout.config_dir / "main.cf", SERVICE, "reload"),
        Target("master.cf.in", layout.config_dir / "master.cf", SERVICE, "reload"),
    ]
    targets += [
        Target(f"postfix-{name}.in", layout.table_path(name), SERVICE, "reload") for name in tables
    ]
    return targets


@dataclass
class PostfixSync:
    layout: PostfixLayout
    targets: list[Target]
    context: dict[str, object]
    note: str | None = None


def prepare(
    settings: Settings,
    load_whitelist: Callable[[], Sequence[WhoObject]] | None,
    root: Path | None = None,
) -> PostfixSync:
    """The Postfix targets and variables. ``load_whitelist`` reads the SMTP whitelist from the
    rule database; it may raise (any exception: the database is unavailable)."""
    conf = settings.pmg
    layout = layout_from_config(conf, settings.config_dir)
    note = None
    maps = None
    if load_whitelist is not None:
        try:
            maps = whitelist_maps(load_whitelist())
        except Exception as err:
            note = f"SMTP whitelist tables left as they are: {' '.join(str(err).split())}"
    else:
        note = "SMTP whitelist tables left as they are: no rule database"
    tables = [
        name
        for name in TABLES
        if name not in WHITELIST_TABLES
        or maps is not None
        or not placed(layout.table_path(name), root).exists()
    ]
    context = postfix_context(settings, layout, maps)
    return PostfixSync(layout, postfix_targets(layout, tables), context, note)


def ensure_tls(settings: Settings, layout: PostfixLayout, root: Path | None = None) -> bool:
    """With mail.tls on, create pmg-tls.pem when it is missing; True when it was created."""
    if not settings.pmg.get("mail", "tls"):
        return False
    return ensure_certificate(placed(layout.tls_cert, root), dns_info()["fqdn"])


def _postfix(layout: PostfixLayout, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("postfix") or "/usr/sbin/postfix"
    return subprocess.run(
        [binary, "-c", str(layout.config_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def runner(layout: PostfixLayout, fallback: ServiceRunner = systemctl) -> ServiceRunner:
    """A service runner that reloads this Postfix instance itself (see the module docstring)."""

    def run(service: str, action: str) -> None:
        if service != SERVICE:
            fallback(service, action)
            return
        if _postfix(layout, "status").returncode != 0:
            return  # not running: it reads the new configuration when it starts
        done = _postfix(layout, "reload" if action == "reload" else "stop")
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
            raise ServiceError(f"postfix -c {layout.config_dir} {action}: {reason}")
        if action == "restart":
            started = _postfix(layout, "start")
            if started.returncode != 0:
                reason = (started.stderr or started.stdout).strip()
                raise ServiceError(f"postfix -c {layout.config_dir} start: {reason}")

    return run
