"""Entries joined into mails, the mail filter and the row limit (twin of ``mails.rs``)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from pmgfast.tracking.model import Mail, Recipient
from pmgfast.tracking.twin.correlate import Entry

WAIT_FACTOR = 24


def status_of(dstatus: str, relayed: str | None) -> str:
    """The admin guide's status of a row and, for an accepted row, of the copy's row."""
    if dstatus == "H" and relayed is None:
        return "queued/delivered"
    if dstatus in ("A", "H"):
        return {
            "2": "accepted/delivered",
            "P": "accepted/delivered",
            "4": "accepted/deferred",
            "D": "accepted/deferred",
            "5": "accepted/bounced",
            "R": "accepted/bounced",
            "Q": "quarantine",
            "B": "blocked",
        }.get(relayed or "", "accepted")
    fixed = {
        "P": "accepted/delivered",
        "D": "accepted/deferred",
        "R": "accepted/bounced",
        "Q": "quarantine",
        "B": "blocked",
        "G": "greylisted",
        "N": "rejected",
        "\0": "rejected",
        "2": "queued/delivered",
        "4": "queued/deferred",
    }
    return fixed.get(dstatus, "queued/bounced")


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


@dataclass(slots=True)
class Rcpt:
    to: bytes
    status: str
    dstatus: str
    rstatus: str | None
    relay: bytes
    time: int


@dataclass
class RawMail:
    """A mail before it becomes the public :class:`Mail` (bytes fields, text match flag)."""

    id: str
    time: int
    sender: bytes
    client: bytes
    msgid: bytes
    size: int
    qids: list[bytes]
    filter_id: bytes
    recipients: list[Rcpt]
    lines: list[tuple[int, bytes]]
    text_match: bool

    def public(self) -> Mail:
        return Mail(
            id=self.id,
            time=self.time,
            sender=_text(self.sender),
            client=_text(self.client),
            msgid=_text(self.msgid),
            size=self.size,
            qids=tuple(_text(q) for q in self.qids),
            filter_id=_text(self.filter_id),
            recipients=tuple(
                Recipient(_text(r.to), r.status, r.dstatus, r.rstatus, _text(r.relay), r.time)
                for r in self.recipients
            ),
            lines=tuple(_text(t) for _, t in self.lines),
        )


def join(main: Entry, relays: list[Entry]) -> RawMail:
    qids: list[bytes] = []
    if isinstance(main.id, bytes):
        qids.append(main.id)
    time = main.first_time
    text_match = main.text_match
    relay_rows: dict[tuple[bytes, bytes], tuple[int, str]] = {}
    for r in relays:
        if isinstance(r.id, bytes):
            for row in r.rows:
                key = (r.id, row.to)
                seen = relay_rows.get(key)
                if seen is None or row.time >= seen[0]:
                    relay_rows[key] = (row.time, row.status)
    recipients: list[Rcpt] = []
    sender = b""
    for row in reversed(main.rows):
        if not sender:
            sender = row.sender
        relay = row.relay if row.relay is not None else b"none"
        relayed = None
        if row.status in ("A", "H"):
            got = relay_rows.get((relay, row.to))
            relayed = got[1] if got is not None else None
        letter = "2" if row.status == "H" else row.status
        rec = Rcpt(row.to, status_of(row.status, relayed), letter, relayed, relay, row.time)
        for i, old in enumerate(recipients):
            if old.to == row.to:
                if row.time >= old.time:
                    recipients[i] = rec
                break
        else:
            recipients.append(rec)
    lines = [ln for _, sec in main.sections for ln in sec]
    filter_id = main.filter_id
    for r in relays:
        if not filter_id:
            filter_id = r.filter_id
        time = min(time, r.first_time)
        text_match = text_match or r.text_match
        if isinstance(r.id, bytes) and r.id not in qids:
            qids.append(r.id)
        lines.extend(ln for _, sec in r.sections for ln in sec)
    lines.sort(key=lambda x: x[0])
    dedup: list[tuple[int, bytes]] = []
    for ln in lines:
        if not dedup or dedup[-1][0] != ln[0]:
            dedup.append(ln)
    client = main.origin[:-1] if main.origin.endswith(b",") else main.origin
    return RawMail(
        main.id_text(), time, sender, client, main.msgid, main.size, qids, filter_id,
        recipients, dedup, text_match,
    )  # fmt: skip


@dataclass
class MailFilter:
    start: int
    end: int
    sender: bytes = b""
    to: bytes = b""
    host: bytes = b""
    msgid: bytes = b""
    ids: list[bytes] = field(default_factory=list)
    text: bool = False
    include_greylisted: bool = False
    include_rejected: bool = False
    include_ndr: bool = False

    def keep(self, m: RawMail) -> bool:
        if m.time < self.start or m.time > self.end:
            return False
        if self.sender and self.sender.lower() not in m.sender.lower():
            return False
        if not self.include_ndr and not m.sender:
            return False
        if self.host and self.host.lower() not in m.client.lower():
            return False
        if self.msgid and m.msgid.lower() != self.msgid.lower():
            return False
        if self.ids:
            own = {m.id.encode("utf-8", "surrogateescape"), *m.qids}
            if m.filter_id:
                own.add(m.filter_id)
            if not any(i in own for i in self.ids):
                return False
        if self.text and not m.text_match:
            return False
        m.recipients = [
            r
            for r in m.recipients
            if (not self.to or self.to.lower() in r.to.lower())
            and (self.include_greylisted or r.status != "greylisted")
            and (self.include_rejected or r.status != "rejected")
        ]
        return bool(m.recipients)


def accepted_relays(e: Entry) -> list[bytes]:
    out: list[bytes] = []
    if not isinstance(e.id, bytes):
        return out
    for r in e.rows:
        if (
            r.status in ("A", "H")
            and r.relay is not None
            and r.relay
            and r.relay not in out
            and r.relay != e.id
        ):
            out.append(r.relay)
    return out


class _Waiting:
    __slots__ = ("main", "missing", "relays")

    def __init__(self, main: Entry, relays: list[Entry], missing: int) -> None:
        self.main = main
        self.relays = relays
        self.missing = missing


Emit = Callable[[RawMail], None]


class Assembler:
    """Joins a stream of entries into mails (see ``mails.rs``: the same windows)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.wait = window * WAIT_FACTOR
        self.held: dict[bytes, tuple[Entry, int]] = {}
        self.held_order: deque[tuple[int, bytes]] = deque()
        self.waiting: dict[int, _Waiting] = {}
        self.waiting_order: deque[tuple[int, int]] = deque()
        self.wanted: dict[bytes, int] = {}
        self.next_slot = 0
        self.now = -(1 << 63)

    def push(self, e: Entry, emit: Emit) -> None:
        self.now = max(self.now, e.ctime)
        relays = accepted_relays(e)
        if isinstance(e.id, bytes):
            slot = self.wanted.pop(e.id, None)
            if slot is not None:
                w = self.waiting.get(slot)
                if w is not None:
                    w.relays.append(e)
                    w.missing = max(0, w.missing - 1)
                    if w.missing == 0:
                        self._complete(slot, emit)
                self._expire(emit)
                return
            if not relays and e.relayed:
                self.held_order.append((e.ctime, e.id))
                old = self.held.get(e.id)
                self.held[e.id] = (e, e.ctime)
                if old is not None:
                    emit(join(old[0], []))
                self._expire(emit)
                return
        if not relays:
            if e.rows:
                emit(join(e, []))
            self._expire(emit)
            return
        got: list[Entry] = []
        missing: list[bytes] = []
        for r in relays:
            h = self.held.pop(r, None)
            if h is not None:
                got.append(h[0])
            else:
                missing.append(r)
        if not missing:
            emit(join(e, got))
        else:
            slot = self.next_slot
            self.next_slot += 1
            for r in missing:
                self.wanted[r] = slot
            self.waiting_order.append((self.now, slot))
            self.waiting[slot] = _Waiting(e, got, len(missing))
        self._expire(emit)

    def _complete(self, slot: int, emit: Emit) -> None:
        w = self.waiting.pop(slot, None)
        if w is None:
            return
        for r in accepted_relays(w.main):
            if self.wanted.get(r) == slot:
                del self.wanted[r]
        emit(join(w.main, w.relays))

    def _expire(self, emit: Emit) -> None:
        limit = self.now - self.window
        while self.held_order and self.held_order[0][0] < limit:
            at, qid = self.held_order.popleft()
            h = self.held.get(qid)
            if h is not None and h[1] == at:
                del self.held[qid]
                emit(join(h[0], []))
        limit = self.now - self.wait
        while self.waiting_order and self.waiting_order[0][0] < limit:
            _, slot = self.waiting_order.popleft()
            self._complete(slot, emit)

    def finish(self, emit: Emit) -> None:
        while self.waiting_order:
            _, slot = self.waiting_order.popleft()
            self._complete(slot, emit)
        rest = sorted(self.held.values(), key=lambda h: (h[0].first_time, h[1]))
        self.held.clear()
        for e, _ in rest:
            emit(join(e, []))
        self.held_order.clear()
        self.wanted.clear()


def finish(mails: list[RawMail], limit: int) -> tuple[list[RawMail], bool]:
    """Sorts by time (then id) and keeps at most ``limit`` recipient rows (0: all)."""
    mails.sort(key=lambda m: (m.time, m.id))
    if limit <= 0:
        return mails, False
    rows = 0
    keep = 0
    truncated = False
    for m in mails:
        if rows + len(m.recipients) > limit:
            truncated = True
            break
        rows += len(m.recipients)
        keep += 1
    return mails[:keep], truncated
