"""pmg-log-tracker's text output, byte for byte (twin of ``pmgfmt.rs``)."""

from __future__ import annotations

from pmgfast.tracking.twin.correlate import Entry

LIMIT_STATUS = b"STATUS: aborted by limit (too many hits)\n"


def _hex(v: int, width: int = 0, zero: bool = False) -> str:
    """Rust's ``{:X}`` / ``{:8X}`` / ``{:08X}`` (negative numbers as two's complement)."""
    if v < 0:
        v &= (1 << 64) - 1
    s = f"{v:X}"
    if len(s) < width:
        s = ("0" if zero else " ") * (width - len(s)) + s
    return s


def write_entry(e: Entry, verbose: int) -> bytes:
    out: list[bytes] = []
    w = out.append
    if isinstance(e.id, tuple):
        time, rel = e.id
        if verbose > 0:
            w(f"SMTPD: T{_hex(time, 8)}L{_hex(rel & 0xFFFFFFFF, 8, True)}\n".encode())
            w(f"CTIME: {_hex(e.ctime, 8)}\n".encode())
            if e.client:
                w(b"CLIENT: " + e.client + b"\n")
        for r in e.rows:
            head = (
                f"TO:{_hex(r.time)}:T{_hex(time, 8, True)}L{_hex(rel, 8, True)}:{r.status}: from <"
            )
            w(head.encode() + r.sender + b"> to <" + r.to + b">\n")
    else:
        qid = e.id
        if verbose > 0:
            w(b"QENTRY: " + qid + b"\n")
            w(f"CTIME: {_hex(e.ctime, 8)}\n".encode())
            w(f"SIZE: {e.size}\n".encode())
            if e.client:
                w(b"CLIENT: " + e.client + b"\n")
            if e.msgid:
                w(b"MSGID: " + e.msgid + b"\n")
        for r in e.rows:
            letter = "2" if r.status == "H" else r.status
            w(f"TO:{_hex(r.time)}:".encode() + qid + f":{letter}: from <".encode())
            w(r.sender + b"> to <" + r.to + b"> (" + (r.relay or b"") + b")\n")
    if verbose > 1:
        for title, lines in e.sections:
            if isinstance(title, tuple):
                w(b"FILTER: " + title[1] + b"\n")
            else:
                w(f"{title}:\n".encode())
            for lineno, text in lines:
                w(f"L{_hex(lineno & 0xFFFFFFFF, 8, True)} ".encode() + text + b"\n")
    w(b"\n")
    return b"".join(out)
