"""The rendered files: which template goes where, and which service must pick it up.

Each :class:`Target` is one line of the table ``pmgfast config sync`` works through. A service
is restarted (or reloaded) only when one of its files changed. Issue 11 adds the Postfix files
(main.cf, master.cf, maps) to :func:`default_targets` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pmgfast.clamav.layout import SYSTEM, ClamdLayout


@dataclass(frozen=True)
class Target:
    """One rendered file: ``template`` (name in the template directories) to ``path``.

    ``service`` is the systemd unit that reads the file (``None``: nothing to tell);
    ``action`` what it needs after a change: ``restart`` or ``reload``.
    """

    template: str
    path: Path
    service: str | None = None
    action: str = "restart"
    mode: int = 0o644

    def __post_init__(self) -> None:
        if self.action not in ("restart", "reload"):
            raise ValueError(f"unknown service action {self.action!r}")


def clamav_targets(clamd: ClamdLayout = SYSTEM) -> list[Target]:
    # clamd reads its configuration only at start; RELOAD reloads signatures, not options.
    return [
        Target("clamd.conf.in", clamd.conf_path, clamd.service, "restart"),
        Target("freshclam.conf.in", clamd.freshclam_conf_path, clamd.freshclam_service, "restart"),
    ]


def default_targets(clamd: ClamdLayout = SYSTEM) -> list[Target]:
    """Every file pmgfast renders, in the order they are written."""
    return [*clamav_targets(clamd)]
