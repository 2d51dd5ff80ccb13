"""``pmgfast virus``: the ClamAV side: signature databases, clamd's state, one-off scans.

``status`` is the GUI's ClamAV database panel (PMG: ``GET /nodes/{node}/clamav/database``):
each database with its type, build time, version and signature count, and whether clamd
answers (with the engine and database version it reports). ``scan FILE...`` sends files to
clamd the way the filter does (INSTREAM) and prints what clamd answered.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pmgfast.clamav import ClamdClient, ClamdUnavailable, assess, read_clamd_conf
from pmgfast.clamav.conf import ClamdConf, ClamdConfError
from pmgfast.clamav.database import database_status
from pmgfast.clamav.layout import SYSTEM
from pmgfast.cli import common
from pmgfast.config import pmgconf
from pmgfast.config.pmgconf import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("virus", help="ClamAV databases, clamd state, test scans")
    parser.add_argument(
        "--clamd-conf",
        help="the clamd.conf to read the socket and database directory from (default: "
        f"pmg.conf's pmgfast.clamd_conf, {SYSTEM.conf_path}, as 'pmgfast config sync' writes it)",
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = sub.add_parser("status", help="signature databases and whether clamd answers")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(func=cmd_status)
    scan = sub.add_parser("scan", help="scan files with clamd as the filter does")
    scan.add_argument("files", nargs="+", type=Path)
    scan.add_argument("--timeout", type=float, default=60.0, help="seconds per file")
    scan.set_defaults(func=cmd_scan)


def _conf(args: argparse.Namespace) -> ClamdConf:
    path = args.clamd_conf
    if path is None:
        path = str(pmgconf.load(common.paths(args).pmg_conf).get("pmgfast", "clamd_conf"))
    try:
        return read_clamd_conf(Path(path))
    except ClamdConfError as err:
        raise ConfigError(path, None, None, str(err)) from None


def cmd_status(args: argparse.Namespace) -> int:
    conf = _conf(args)
    rows = database_status(conf.database_dir)
    client = ClamdClient.from_conf(conf)
    try:
        version: str | None = client.version(timeout=5.0)
        error = None
    except ClamdUnavailable as err:
        version, error = None, str(err)
    if args.json:
        print(
            json.dumps(
                {
                    "clamd": {"address": str(conf.address), "version": version, "error": error},
                    "database_dir": str(conf.database_dir),
                    "databases": [row.as_dict() for row in rows],
                }
            )
        )
        return 0 if version else 1
    print(f"clamd {conf.address}: " + (f"running, {version}" if version else f"DOWN ({error})"))
    print(f"databases in {conf.database_dir}:")
    if not rows:
        print("  (none: clamd will not start without signatures; run freshclam)")
    width = max((len(row.name) for row in rows), default=4)
    for row in rows:
        ver = "-" if row.version is None else str(row.version)
        print(
            f"  {row.name:<{width}}  {row.type:<10}  {row.build_time:<26}  version {ver:>6}  "
            f"{row.nsigs} signatures"
        )
    return 0 if version else 1


def cmd_scan(args: argparse.Namespace) -> int:
    client = ClamdClient.from_conf(_conf(args))
    worst = 0
    try:
        for path in args.files:
            try:
                with open(path, "rb") as handle:
                    result = client.scan(handle, timeout=args.timeout)
            except OSError as err:
                print(f"{path}: cannot read: {err.strerror}", file=sys.stderr)
                worst = max(worst, 2)
                continue
            finding = assess(result)
            if result.is_error:
                print(f"{path}: ERROR {result.error}")
                worst = max(worst, 2)
            elif finding.virus:
                print(f"{path}: VIRUS {finding.virus}")
                worst = max(worst, 1)
            elif finding.heuristic:
                print(f"{path}: HEURISTIC {finding.heuristic} (spam score +{finding.spam_score})")
            else:
                print(
                    f"{path}: OK" + (" (only the first part scanned)" if result.truncated else "")
                )
    finally:
        client.close()
    return worst
