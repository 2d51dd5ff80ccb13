"""How ``pmgfast track`` prints mails: a table (time, from, to, status), optionally with the log
lines, or JSON."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from pmgfast.tracking.model import Mail
from pmgfast.tracking.twin.stamps import Zone


def table(mails: Iterable[Mail], zone: Zone, verbose: bool = False) -> str:
    """One row per recipient; with ``verbose`` each mail's log lines follow its rows."""
    rows: list[tuple[str, str, str, str]] = []
    logs: list[tuple[int, tuple[str, ...]]] = []
    for m in mails:
        when = zone.format(m.time)
        for r in m.recipients:
            rows.append((when, m.sender or "<>", r.to or "<>", r.status))
        if verbose:
            logs.append((len(rows), m.lines))
    head = ("Time", "From", "To", "Status")
    widths = [max([len(head[i])] + [len(r[i]) for r in rows]) for i in range(3)]

    def fmt(r: tuple[str, str, str, str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3]

    out = [fmt(head)]
    at = 0
    for end, lines in logs if verbose else [(len(rows), ())]:
        out.extend(fmt(r) for r in rows[at:end])
        out.extend(f"    {text}" for text in lines)
        at = end
    return "\n".join(out) + "\n"


def as_json(mails: Iterable[Mail], lines: bool, truncated: bool) -> bytes:
    doc = {"mails": [m.to_dict(lines=lines) for m in mails], "truncated": truncated}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
