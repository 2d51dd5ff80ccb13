"""The ``pmgfast`` command: one module per subcommand, PMG tool names as aliases.

Each subcommand module has ``register(subparsers)``, which adds its parser and sets ``func``
to a handler taking the parsed arguments and returning the exit code. Errors that a person can
act on (bad configuration, database unreachable, a server that will not start) are printed as
one line, ``pmgfast: error: ...``, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pmgfast import __version__
from pmgfast.cli import (
    bayes,
    config,
    db,
    dkim,
    greylist,
    milter,
    perf,
    rules,
    scan,
    start,
    stop,
    track,
    virus,
)
from pmgfast.config import ConfigError
from pmgfast.db.connect import DatabaseUnavailable
from pmgfast.db.embedded import EmbeddedError
from pmgfast.supervisor import AlreadyRunning

SUBCOMMANDS = (
    bayes,
    config,
    db,
    dkim,
    greylist,
    milter,
    perf,
    rules,
    scan,
    start,
    stop,
    track,
    virus,
)
PLAIN_ERRORS = (ConfigError, DatabaseUnavailable, EmbeddedError, AlreadyRunning)


def build_parser(prog: str = "pmgfast") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="pmgfast: a fast mail gateway for Postfix.",
    )
    parser.add_argument("--version", action="version", version=f"pmgfast {__version__}")
    parser.add_argument(
        "--state-dir",
        help="state directory (default: /var/lib/pmgfast as root, "
        "else ~/.local/state/pmgfast; env PMGFAST_STATE_DIR)",
    )
    parser.add_argument(
        "--config-dir",
        help="config directory (default: /etc/pmgfast if it "
        "exists, else <state dir>/etc; env PMGFAST_CONFIG_DIR)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "pmgfast") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PLAIN_ERRORS as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _alias(subcommand: str) -> int:
    return main([subcommand, *sys.argv[1:]], prog=Path(sys.argv[0]).name)


def pmgconfig() -> int:
    """``pmgconfig``: PMG's name for ``pmgfast config``."""
    return _alias("config")


def pmgdb() -> int:
    """``pmgdb``: PMG's name for ``pmgfast db``."""
    return _alias("db")


def pmgperf() -> int:
    """``pmgperf``: PMG's name for ``pmgfast perf``."""
    return _alias("perf")
