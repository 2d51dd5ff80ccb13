"""Where pmgfast keeps its state and its configuration.

Resolution order, first hit wins:

- state directory: ``--state-dir`` > ``PMGFAST_STATE_DIR`` > ``/var/lib/pmgfast`` (root) >
  ``$XDG_STATE_HOME/pmgfast`` (default ``~/.local/state/pmgfast``).
- config directory: ``--config-dir`` > ``PMGFAST_CONFIG_DIR`` > ``/etc/pmgfast`` when it exists
  (a system-wide install) > ``<state dir>/etc`` (the embedded default).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SYSTEM_CONFIG_DIR = Path("/etc/pmgfast")


def default_state_dir() -> Path:
    env = os.environ.get("PMGFAST_STATE_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/pmgfast")
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "pmgfast"


def default_config_dir(state_dir: Path) -> Path:
    env = os.environ.get("PMGFAST_CONFIG_DIR")
    if env:
        return Path(env)
    if SYSTEM_CONFIG_DIR.is_dir():
        return SYSTEM_CONFIG_DIR
    return state_dir / "etc"


@dataclass(frozen=True)
class Paths:
    """The directories of one pmgfast instance."""

    state_dir: Path
    config_dir: Path

    @classmethod
    def resolve(
        cls, state_dir: str | Path | None = None, config_dir: str | Path | None = None
    ) -> Paths:
        state = Path(state_dir) if state_dir else default_state_dir()
        config = Path(config_dir) if config_dir else default_config_dir(state)
        return cls(state_dir=state.absolute(), config_dir=config.absolute())

    @property
    def pmg_conf(self) -> Path:
        return self.config_dir / "pmg.conf"

    @property
    def run_dir(self) -> Path:
        """Pid files and sockets of running services."""
        return self.state_dir / "run"

    @property
    def pg_dir(self) -> Path:
        """The embedded PostgreSQL instance (data directory and socket directory)."""
        return self.state_dir / "pg"

    @property
    def spool_dir(self) -> Path:
        """Quarantine files and spilled message bodies."""
        return self.state_dir / "spool"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"
