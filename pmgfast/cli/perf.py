"""``pmgfast perf`` (also ``pmgperf``): measure this machine's speed for mail filtering.

Prints PMG's pmgperf lines (CPU BOGOMIPS, REGEX/SECOND, HD SIZE, BUFFERED READS, AVERAGE SEEK
TIME, FSYNCS/SECOND, DNS EXT, DNS INT), each measured for about three seconds, then pmgfast's
own hot-path figures on a built-in sample.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pmgfast import perf


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "perf", help="measure this machine (PMG's pmgperf)", description=__doc__
    )
    parser.add_argument(
        "path",
        nargs="?",
        default="/",
        help="directory for the disk tests (default /; PMG's [path])",
    )
    parser.add_argument("--path", dest="path_option", help="the same as the positional path")
    parser.add_argument(
        "--nameserver",
        help="resolver for the DNS tests, IP[:PORT] (default: the system's /etc/resolv.conf)",
    )
    parser.add_argument(
        "--resolv-conf",
        type=Path,
        default=perf.RESOLV_CONF,
        help="resolver configuration when --nameserver is not given (default /etc/resolv.conf)",
    )
    parser.add_argument("--search-domain", help="domain for DNS INT (default: resolv.conf search)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=perf.PROBE_SECONDS,
        help="duration of each probe (default 3, as PMG)",
    )
    parser.add_argument("--pmg-only", action="store_true", help="only PMG's lines")
    parser.set_defaults(func=cmd_perf)


def cmd_perf(args: argparse.Namespace) -> int:
    path = Path(args.path_option or args.path)
    if not path.is_dir():
        print(f"pmgperf: error: {path} is not a directory")
        return 2
    lines = perf.report(
        path,
        args.nameserver,
        args.search_domain,
        args.seconds,
        own=not args.pmg_only,
        resolv_conf=args.resolv_conf,
    )
    for line in lines:
        print(line.render(), flush=True)
    return 0
