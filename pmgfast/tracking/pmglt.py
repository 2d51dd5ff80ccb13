"""``pmg-log-tracker``: the same program as PMG's, for PMG's tooling (its API runs
``pmg-log-tracker -v [-v] -s … -e … [-f|-t|-h|-m|-q|-x|-g|-n|-l] …`` and parses the output).

Arguments are read the way pico-args reads them (``--opt VALUE``, ``--opt=VALUE``, repeated
``-q``, combined short flags such as ``-vv`` or ``-gn``), leftovers are an error, and the output
(``# …`` header, entries, ``STATUS:`` line) is pmg-log-tracker 3.1's. Traditional syslog stamps
take their year from "now": the clock (``faketime`` works, as in upstream's tests) or
``PMGFAST_NOW`` (epoch seconds or a time in one of the ``-s`` forms). Local times follow ``TZ``.

Deliberate differences: ``--message-id`` is accepted besides ``--msgid`` (upstream advertises
the first and parses the second), ``-V`` prints the version, errors never end in a panic, and
pmgfast's milter lines (``tracking/FORMAT.md``) are understood too.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pmgfast import native
from pmgfast.tracking.errors import TrackingError
from pmgfast.tracking.twin.correlate import PrintFilter, parse_id
from pmgfast.tracking.twin.scan import PmgQuery, run_pmg
from pmgfast.tracking.twin.stamps import Civil, Zone, parse_query_time, timegm

VERSION = "3.1.0"

USAGE = "\n".join(
    (
        f"pmg-log-tracker {VERSION} (pmgfast)",
        "Proxmox Mailgateway Log Tracker. Tool to scan mail logs.",
        "",
        "USAGE:",
        "    pmg-log-tracker [OPTIONS]",
        "",
        "OPTIONS:",
        "    -e, --endtime <TIME>            End time (YYYY-MM-DD HH:MM:SS) or seconds since epoch",
        "    -f, --from <SENDER>             Mails from SENDER",
        "    -g, --exclude-greylist          Exclude greylist entries",
        "    -h, --host <HOST>               Hostname or Server IP",
        "        --help                      Print help information",
        "    -i, --inputfile <INPUTFILE>     Single input file to scan instead of the log series,"
        " or '-' for stdin",
        "        --input-base <BASE>         Base path of the rotated log series to scan"
        " [default: /var/log/syslog]",
        "    -l, --limit <MAX>               Print MAX entries [default: 0]",
        "    -m, --message-id <MSGID>        Message ID (exact match)",
        "    -n, --exclude-ndr               Exclude NDR entries",
        "    -q, --queue-id <QID>            Queue ID (exact match), can be specified"
        " multiple times",
        "    -s, --starttime <TIME>          Start time (YYYY-MM-DD HH:MM:SS) or seconds"
        " since epoch",
        "    -t, --to <RECIPIENT>            Mails to RECIPIENT",
        "    -v, --verbose                   Verbose output, can be specified multiple times",
        "    -V, --version                   Print version information",
        "    -x, --search-string <STRING>    Search for string",
    )
)

_VALUED = {
    "-i": "input", "--inputfile": "input", "--input-base": "base",
    "-s": "start", "--starttime": "start", "-e": "end", "--endtime": "end",
    "-l": "limit", "--limit": "limit", "-q": "qid", "--queue-id": "qid",
    "-f": "from", "--from": "from", "-t": "to", "--to": "to", "-h": "host", "--host": "host",
    "-m": "msgid", "--msgid": "msgid", "--message-id": "msgid",
    "-x": "text", "--search-string": "text",
}  # fmt: skip
_FLAGS = {
    "-g": "g", "--exclude-greylist": "g", "-n": "n", "--exclude-ndr": "n",
    "-v": "v", "--verbose": "v", "-V": "V", "--version": "V",
}  # fmt: skip


@dataclass
class Args:
    values: dict[str, list[str]] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    help: bool = False

    def one(self, key: str) -> str | None:
        v = self.values.get(key)
        return v[-1] if v else None


def parse_args(argv: Sequence[str]) -> Args:
    """pico-args' reading of the command line; leftovers raise :class:`TrackingError`."""
    a = Args()
    leftover: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--help":
            a.help = True
            continue
        name, eq, inline = arg.partition("=")
        if arg.startswith("--") and eq and name in _VALUED:
            a.values.setdefault(_VALUED[name], []).append(inline)
            continue
        if arg in _VALUED:
            if i >= len(argv):
                raise TrackingError(f"the option '{arg}' is missing a value")
            a.values.setdefault(_VALUED[arg], []).append(argv[i])
            i += 1
            continue
        if arg in _FLAGS:
            key = _FLAGS[arg]
            a.flags[key] = a.flags.get(key, 0) + 1
            continue
        if (
            len(arg) > 2
            and arg[0] == "-"
            and arg[1] != "-"
            and all(f"-{c}" in _FLAGS for c in arg[1:])
        ):
            for c in arg[1:]:
                key = _FLAGS[f"-{c}"]
                a.flags[key] = a.flags.get(key, 0) + 1
            continue
        leftover.append(arg)
    if leftover:
        raise TrackingError(f'Found invalid arguments: "{", ".join(leftover)}"')
    return a


def now_from_env(zone: Zone) -> int:
    """``PMGFAST_NOW`` if set, else the clock."""
    value = os.environ.get("PMGFAST_NOW")
    if value:
        return parse_query_time(value, zone)
    return int(time.time())


@dataclass
class Prepared:
    query: PmgQuery
    header: bytes


def prepare(argv: Sequence[str], zone: Zone, now: int) -> Prepared | str:
    """The query and the ``#`` header for a command line (or the text to print for
    ``--help``/``-V``)."""
    a = parse_args(argv)
    if a.help:
        return USAGE + "\n"
    if a.flags.get("V"):
        return f"pmg-log-tracker {VERSION} (pmgfast)\n"
    start_text = a.one("start")
    if start_text is not None:
        try:
            start = parse_query_time(start_text, zone)
        except TrackingError:
            raise TrackingError("failed to parse start time") from None
        offset = zone.offset_at(start)
    else:
        # pmg-log-tracker: today's date at 00:00:00 read as UTC, with the offset of now
        c = zone.civil(now)
        start = timegm(Civil(c.year, c.month0, c.day, 0, 0, 0))
        offset = zone.offset_at(now)
    end_text = a.one("end")
    if end_text is not None:
        try:
            end = parse_query_time(end_text, zone)
        except TrackingError:
            raise TrackingError("failed to parse end time") from None
    else:
        end = now
    if end < start:
        raise TrackingError("end time before start time")
    limit_text = a.one("limit")
    try:
        limit = int(limit_text) if limit_text is not None else 0
    except ValueError:
        raise TrackingError(f"invalid limit {limit_text!r}") from None
    if limit < 0:
        raise TrackingError(f"invalid limit {limit_text!r}")
    enc = lambda s: (s or "").encode("utf-8", "surrogateescape")  # noqa: E731
    qids = a.values.get("qid", [])
    pf = PrintFilter(
        sender=enc(a.one("from")),
        to=enc(a.one("to")),
        host=enc(a.one("host")),
        msgid=enc(a.one("msgid")),
        ids=[parse_id(q) for q in qids],
        exclude_greylist=bool(a.flags.get("g")),
        exclude_ndr=bool(a.flags.get("n")),
    )
    text = enc(a.one("text"))
    inputfile = a.one("input")
    if inputfile == "-":
        source: tuple[str, object] = ("stdin", None)
    elif inputfile:
        source = ("file", inputfile)
    else:
        source = ("series", a.one("base") or "/var/log/syslog")
    q = PmgQuery(start, end, offset, now, source, pf, text, limit, a.flags.get("v", 0))
    head = [f"# LogReader: {os.getpid()}", "# Query options"]
    for label, key in (
        ("Sender", "from"),
        ("Recipient", "to"),
        ("Server", "host"),
        ("MsgID", "msgid"),
    ):
        if a.one(key):
            head.append(f"# {label}: {a.one(key)}")
    for m in pf.ids:
        if isinstance(m, tuple):
            head.append(f"# QID: T{m[0]:8X}L{m[1]:08X}")
        else:
            head.append(f"# QID: {m.decode('utf-8', 'surrogateescape')}")
    if text:
        head.append(f"# Match: {a.one('text')}")
    head.append(f"# Start: {zone.format(start)} ({start})")
    head.append(f"# End: {zone.format(end)} ({end})")
    head.append("# End Query Options")
    return Prepared(q, ("\n".join(head) + "\n\n").encode("utf-8", "surrogateescape"))


def run(q: PmgQuery, zone: Zone, pure: bool = False, tz: str | None = None) -> bytes:
    """The entries (and ``STATUS:`` line) of a prepared query, natively when possible."""
    rust = None if pure else native.rust()
    if rust is None:
        return run_pmg(q, zone)
    kind, value = q.source
    f = q.filter
    dec = lambda b: b.decode("utf-8", "surrogateescape")  # noqa: E731
    ids = [(f"T{m[0]:08X}L{m[1]:08X}" if isinstance(m, tuple) else dec(m)) for m in f.ids]
    result: bytes = rust.track_pmg(
        start=q.start,
        end=q.end,
        offset=q.offset,
        now=q.now,
        source=kind,
        input=value if kind in ("file", "series") else None,
        data=value if kind == "bytes" else None,
        sender=dec(f.sender),
        recipient=dec(f.to),
        host=dec(f.host),
        msgid=dec(f.msgid),
        ids=ids,
        text=dec(q.text),
        exclude_greylist=f.exclude_greylist,
        exclude_ndr=f.exclude_ndr,
        limit=q.limit,
        verbose=q.verbose,
        tz=tz,
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pmg-log-tracker`` command."""
    args = list(sys.argv[1:] if argv is None else argv)
    zone = Zone.from_env()
    out = sys.stdout.buffer
    try:
        prepared = prepare(args, zone, now_from_env(zone))
        if isinstance(prepared, str):
            out.write(prepared.encode())
            out.flush()
            return 0
        out.write(prepared.header)
        out.write(run(prepared.query, zone))
        out.flush()
    except TrackingError as err:
        sys.stderr.write(f"Error: {err}\n")
        return 1
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
