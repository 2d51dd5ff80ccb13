"""Write the rendered files that changed, and tell their services (``pmgfast config sync``).

:func:`plan` renders every target and compares it with what is on disk; :func:`apply` writes
the files whose content differs (atomically: a service never reads half a file) and returns
what changed; :func:`restart_services` restarts or reloads each service whose files changed,
once. Unchanged files are not touched (their mtime stays), so running sync twice is a no-op.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pmgfast.config.pmgconf import atomic_write
from pmgfast.render.engine import TemplateEngine
from pmgfast.render.targets import Target


@dataclass(frozen=True)
class Rendered:
    """One target after rendering: the new text, the old one (``None``: no file yet)."""

    target: Target
    path: Path
    text: str
    old: str | None
    origin: Path

    @property
    def status(self) -> str:
        if self.old is None:
            return "created"
        return "unchanged" if self.old == self.text else "changed"

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                (self.old or "").splitlines(keepends=True),
                self.text.splitlines(keepends=True),
                fromfile=f"{self.path} (current)",
                tofile=f"{self.path} (rendered from {self.origin})",
            )
        )


def _placed(path: Path, root: Path | None) -> Path:
    """``path`` under an alternative root directory (packaging, tests, a dry look)."""
    if root is None:
        return path
    return root / path.relative_to(path.anchor) if path.is_absolute() else root / path


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return ""  # not ours: differs from anything we render, so it is rewritten


def plan(
    targets: Iterable[Target],
    context: Mapping[str, object],
    engine: TemplateEngine,
    root: Path | None = None,
) -> list[Rendered]:
    """Render every target; nothing is written. A template error raises TemplateError."""
    rendered = []
    for target in targets:
        path = _placed(target.path, root)
        text = engine.render(target.template, context)
        rendered.append(Rendered(target, path, text, _read(path), engine.origin(target.template)))
    return rendered


def apply(rendered: Sequence[Rendered]) -> list[Rendered]:
    """Write the files whose content changed; returns those."""
    written = []
    for item in rendered:
        if item.changed:
            atomic_write(item.path, item.text, item.target.mode)
            written.append(item)
    return written


ServiceRunner = Callable[[str, str], None]


class ServiceError(Exception):
    """A service could not be restarted or reloaded."""


def systemctl(service: str, action: str) -> None:
    """Restart or reload a systemd unit (only if it is running: ``try-restart``)."""
    binary = shutil.which("systemctl")
    if binary is None:
        raise ServiceError(f"cannot {action} {service}: systemctl not found")
    verb = "try-restart" if action == "restart" else "try-reload-or-restart"
    done = subprocess.run(
        [binary, verb, service], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise ServiceError(f"systemctl {verb} {service}: {reason}")


def services_to_notify(changed: Iterable[Rendered]) -> list[tuple[str, str]]:
    """(service, action) pairs, each service once; a restart wins over a reload."""
    actions: dict[str, str] = {}
    for item in changed:
        service = item.target.service
        if service is None:
            continue
        if actions.get(service) != "restart":
            actions[service] = item.target.action
    return list(actions.items())


def restart_services(
    changed: Iterable[Rendered], runner: ServiceRunner = systemctl
) -> list[tuple[str, str]]:
    """Restart/reload the services of changed files; returns what was done."""
    done = []
    for service, action in services_to_notify(changed):
        runner(service, action)
        done.append((service, action))
    return done
