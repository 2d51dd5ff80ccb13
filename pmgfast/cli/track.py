"""``pmgfast track``: the tracking center on the command line.

Searches the mail log for what happened to mails: by time range (default: the last hour),
sender, recipient, client, Message-ID, queue id or any text in the log lines. Prints a table
(time, from, to, status; ``--verbose`` adds the log lines), JSON (``--json``), or exactly
pmg-log-tracker's output (``--format pmg``). Reads the rotated log series (``--input-base``,
plain and ``.gz`` files, only those overlapping the range) or given files (``-i``), or the
incremental index when there is one (``--index``; the part of the log not indexed yet is read
directly). ``--update-index`` brings the index up to date (``pmgfast start``'s housekeeping
process does it every minute; it only reads the logs). The log series defaults to
``pmgfast.tracking_log`` of the configuration.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pmgfast.cli import common
from pmgfast.config import ConfigError
from pmgfast.tracking import Query, TrackingError, index_info, output, pmglt, search, update_index
from pmgfast.tracking.twin.stamps import Zone, parse_query_time

DEFAULT_BASE = "/var/log/syslog"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "track", help="search the mail logs (tracking center)", description=__doc__
    )
    p.add_argument("-s", "--start", help="start time: YYYY-MM-DD HH:MM:SS, RFC 3339 or epoch")
    p.add_argument("-e", "--end", help="end time (default: now; start default: an hour before)")
    p.add_argument("-f", "--from", dest="sender", default="", help="sender contains")
    p.add_argument("-t", "--to", dest="recipient", default="", help="a recipient contains")
    p.add_argument("--host", default="", help="client host name or IP contains")
    p.add_argument("-m", "--msgid", default="", help="Message-ID (exact, any case)")
    p.add_argument(
        "-q", "--qid", action="append", default=[], help="queue or filter id (repeatable)"
    )
    p.add_argument("-x", "--search", dest="text", default="", help="a log line contains")
    p.add_argument("--greylisted", action="store_true", help="include greylisted recipients")
    p.add_argument("--rejected", action="store_true", help="include rejected recipients")
    p.add_argument("--ndr", action="store_true", help="include mail from <> (bounces)")
    p.add_argument("-l", "--limit", type=int, default=0, help="at most N rows (0: all)")
    p.add_argument("-v", "--verbose", action="store_true", help="print each mail's log lines")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument(
        "--format",
        choices=("table", "json", "pmg"),
        default=None,
        help="output format; 'pmg' is pmg-log-tracker's text for the same query",
    )
    p.add_argument(
        "-i", "--input", action="append", default=[], help="a log file (repeatable; - is stdin)"
    )
    p.add_argument(
        "--input-base",
        help=f"base of the rotated log series (default: pmgfast.tracking_log, {DEFAULT_BASE})",
    )
    p.add_argument("--index", help="index directory (default: <state dir>/tracking-index)")
    p.add_argument("--no-index", action="store_true", help="read the logs even if indexed")
    p.add_argument(
        "--update-index", action="store_true", help="update the index from the log and exit"
    )
    p.add_argument("--index-info", action="store_true", help="describe the index and exit")
    p.add_argument("--now", help="'now' for yearless syslog stamps (default: the clock)")
    p.set_defaults(func=run)


def _index_dir(args: argparse.Namespace) -> Path:
    if args.index:
        return Path(args.index)
    return common.paths(args).state_dir / "tracking-index"


def _configured_base(args: argparse.Namespace) -> str:
    """The configured mail log (``pmgfast.tracking_log``); the default if unreadable."""
    try:
        return str(common.settings(args).pmg.get("pmgfast", "tracking_log") or DEFAULT_BASE)
    except ConfigError:
        return DEFAULT_BASE


def run(args: argparse.Namespace) -> int:
    zone = Zone.from_env()
    try:
        return _run(args, zone)
    except TrackingError as err:
        print(f"pmgfast track: error: {err}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, zone: Zone) -> int:
    now = parse_query_time(args.now, zone) if args.now else pmglt.now_from_env(zone)
    base = args.input_base or _configured_base(args)
    if args.update_index:
        r = update_index(_index_dir(args), base, now=now)
        print(
            f"indexed {r.bytes_read / 1e6:.1f} MB of log: {r.entries} entries in "
            f"{r.segments} new segments, {r.seconds:.2f} s"
        )
        return 0
    if args.index_info:
        i = index_info(_index_dir(args))
        print(
            f"{i.segments} segments, {i.entries} entries, {i.bytes / 1e6:.1f} MB; built from "
            f"{i.read_bytes / 1e6:.1f} MB of log in {i.build_seconds:.1f} s; "
            f"last line {zone.format(i.last_time) if i.last_time else '-'}"
        )
        return 0
    end = parse_query_time(args.end, zone) if args.end else now
    start = parse_query_time(args.start, zone) if args.start else end - 3600
    fmt = args.format or ("json" if args.json else "table")
    if fmt == "pmg":
        return _pmg(args, zone, now, start, end, base)
    query = Query(
        start=start,
        end=end,
        sender=args.sender,
        recipient=args.recipient,
        host=args.host,
        msgid=args.msgid,
        qids=tuple(args.qid),
        text=args.text,
        include_greylisted=args.greylisted,
        include_rejected=args.rejected,
        include_ndr=args.ndr,
        limit=args.limit,
        lines=args.verbose,
        now=now,
    )
    files = [f for f in args.input if f != "-"]
    data = sys.stdin.buffer.read() if "-" in args.input else None
    index = None
    if not args.input and not args.no_index:
        candidate = _index_dir(args)
        if (candidate / "state").is_file():
            index = candidate
    result = search(
        query,
        files=files,
        data=data,
        series=None if args.input else base,
        index=index,
    )
    if fmt == "json":
        sys.stdout.buffer.write(output.as_json(result.mails, args.verbose, result.truncated))
    else:
        sys.stdout.write(output.table(result.mails, zone, args.verbose))
        if result.truncated:
            sys.stdout.write(f"(stopped at {args.limit} rows: narrow the search)\n")
    return 0


def _pmg(args: argparse.Namespace, zone: Zone, now: int, start: int, end: int, base: str) -> int:
    """pmg-log-tracker's output for the same query (its API's flags: -n and -g unless NDRs or
    greylisted mail are asked for)."""
    argv = ["-vv" if args.verbose else "-v", "-s", str(start), "-e", str(end)]
    for flag, value in (("-f", args.sender), ("-t", args.recipient), ("-h", args.host),
                        ("-m", args.msgid), ("-x", args.text)):  # fmt: skip
        if value:
            argv += [flag, value]
    for q in args.qid:
        argv += ["-q", q]
    if not args.greylisted:
        argv.append("-g")
    if not args.ndr:
        argv.append("-n")
    if args.limit:
        argv += ["-l", str(args.limit)]
    if len(args.input) > 1:
        raise TrackingError("--format pmg reads one input file (or the series)")
    if args.input:
        argv += ["-i", args.input[0]]
    else:
        argv += ["--input-base", base]
    prepared = pmglt.prepare(argv, zone, now)
    if isinstance(prepared, str):
        sys.stdout.write(prepared)
        return 0
    sys.stdout.buffer.write(prepared.header)
    sys.stdout.buffer.write(pmglt.run(prepared.query, zone))
    return 0
