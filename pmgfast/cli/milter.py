"""``pmgfast milter``: run the prefork milter pool in the foreground (PMG's pmg-smtp-filter).

Binds the milter socket (``pmgfast.milter_socket``), forks the workers (``mail.max_filters``,
default one per core) and runs until SIGTERM/SIGINT, draining every worker first. SIGHUP reloads
pmg.conf and the rules without dropping a connection. ``pmgfast start`` runs it as a service.
"""

from __future__ import annotations

import argparse
import sys

from pmgfast.actions.log import sink_for
from pmgfast.cli import common


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "milter", help="run the milter pool in the foreground", description=__doc__
    )
    parser.add_argument(
        "--socket", help="override pmgfast.milter_socket (inet:PORT@HOST, unix:/PATH)"
    )
    parser.add_argument("--workers", type=int, help="number of workers (default: one per core)")
    parser.set_defaults(func=cmd_milter)


def cmd_milter(args: argparse.Namespace) -> int:
    from pmgfast.milter.service import load_state, make_pool

    state = load_state(common.paths(args), args.socket, args.workers)
    sink = sink_for(state.settings.pmg.get("pmgfast", "log_file"))  # type: ignore[arg-type]

    def announce(text: str) -> None:
        try:
            sink.write(text)
            print(f"pmgfast milter: {text}", file=sys.stderr, flush=True)
        except OSError:  # a closed terminal or log must not stop the pool
            pass

    return make_pool(state, announce).run()
