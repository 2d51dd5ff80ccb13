"""``pmgfast start``: run the gateway on this machine, in the foreground.

Starts every service of the configuration (today: the database, embedded by default, with its
schema in place), prints where each one listens, and runs until Ctrl-C or ``pmgfast stop``,
which stop them all again.
"""

from __future__ import annotations

import argparse

from pmgfast import supervisor
from pmgfast.cli import common


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "start", help="run the gateway in the foreground", description=__doc__
    )
    parser.set_defaults(func=cmd_start)


def cmd_start(args: argparse.Namespace) -> int:
    paths = common.paths(args)
    settings = common.settings(args)
    print(f"pmgfast: state in {paths.state_dir}, configuration in {paths.config_dir}", flush=True)
    return supervisor.run(supervisor.services_for(settings, paths), paths)
