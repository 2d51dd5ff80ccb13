"""The correlator, pure Python: the twin of ``tracking/src/correlate/``.

It keeps the same entries with the same ownership (a queue entry holds its session and filter
run strongly; sessions, filter runs and the Message-ID table hold queue entries weakly), and
CPython's reference counting frees them exactly when Rust's ``Rc`` does, so weak links resolve
the same way in both. Handlers and print rules follow the Rust code line for line.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from pmgfast.tracking.twin.lineparse import (
    Dialect,
    Service,
    filter_id,
    filter_id_prefix,
    postfix_qid,
    postfix_qid_prefix,
    read_header,
)
from pmgfast.tracking.twin.stamps import StampReader

GREYLIST_TEXT = b"Recipient address rejected: Service is unavailable (try later)"
PRUNE_EVERY = 1 << 20
FLUSHED_MEMORY = 7 * 86400
_SPACE = b" \t\n\r\x0c"

# status letters ('2', '4', '5' for DSN classes)
INVALID = "\0"
#: pmgfast's dialect: handed to this host's loopback smtpd, queued anew (printed as "2")
HOP = "H"


@dataclass(slots=True)
class Row:
    time: int
    status: str
    sender: bytes
    to: bytes
    relay: bytes | None


@dataclass(slots=True)
class Entry:
    """A printed entry (twin of ``model::Entry``); ``id`` is bytes (a queue id) or a
    ``(time, rel)`` pair (a session)."""

    id: bytes | tuple[int, int]
    ctime: int
    size: int
    client: bytes
    origin: bytes
    msgid: bytes
    filter_id: bytes
    text_match: bool
    rows: list[Row]
    #: [(title, [(lineno, text)])]; title "LOGS", "SMTP", "QMGR" or ("FILTER", id)
    sections: list[tuple[object, list[tuple[int, bytes]]]]
    first_time: int
    relayed: bool = False
    incomplete: bool = False
    continued: bool = False

    def id_text(self) -> str:
        if isinstance(self.id, tuple):
            return f"T{self.id[0]:08X}L{self.id[1]:08X}"
        return self.id.decode("utf-8", "replace")


class ToRow:
    __slots__ = ("relay", "status", "time", "to")

    def __init__(self, to: bytes, relay: bytes, status: str, time: int) -> None:
        self.to = to
        self.relay = relay
        self.status = status
        self.time = time


class Rejected:
    __slots__ = ("sender", "status", "time", "to")

    def __init__(self, sender: bytes, to: bytes, status: str, time: int) -> None:
        self.sender = sender
        self.to = to
        self.status = status
        self.time = time


class Session:
    __slots__ = (
        "__weakref__", "bq_accepted", "bq_from", "bq_rejected", "client", "disconnected",
        "filter", "first_line", "lines", "queued", "rejected", "rel", "seq", "text_match", "time",
    )  # fmt: skip

    def __init__(self, time: int, rel: int, seq: int, first_line: int) -> None:
        self.lines: list[tuple[int, bytes]] = []
        self.client = b""
        self.queued: list[weakref.ref[Queued]] = []
        self.rejected: list[Rejected] = []
        self.disconnected = False
        self.filter: weakref.ref[Filtered] | None = None
        self.text_match = False
        self.time = time
        self.rel = rel
        self.bq_accepted = False
        self.bq_rejected = False
        self.bq_from = b""
        self.seq = seq
        self.first_line = first_line

    def set_client(self, client: bytes) -> None:
        if not self.client:
            self.client = client

    def get_filter(self) -> Filtered | None:
        return self.filter() if self.filter is not None else None


class Queued:
    __slots__ = (
        "__weakref__", "bq_filtered", "bq_session", "cleanup", "client", "continued", "filter",
        "filtered", "first_line", "first_time", "lines", "milter", "msgid", "qid", "removed",
        "rows", "sender", "seq", "size", "smtpd", "text_match", "twin",
    )  # fmt: skip

    def __init__(
        self, qid: bytes, first_time: int, seq: int, first_line: int, continued: bool
    ) -> None:
        self.lines: list[tuple[int, bytes]] = []
        self.smtpd: Session | None = None
        self.filter: Filtered | None = None
        self.qid = qid
        self.sender = b""
        self.client = b""
        self.msgid = b""
        self.size = 0
        self.rows: list[ToRow] = []
        self.cleanup = False
        self.removed = False
        self.filtered = False
        self.text_match = False
        self.bq_filtered = False
        self.bq_session: Session | None = None
        self.twin: weakref.ref[Queued] | None = None
        self.milter = False
        self.continued = continued
        self.first_time = first_time
        self.seq = seq
        self.first_line = first_line

    def set_client(self, client: bytes) -> None:
        if not self.client:
            self.client = client


class Filtered:
    __slots__ = (
        "__weakref__", "accepted", "bq", "finished", "first_line", "first_time", "id", "lines",
        "milter", "queued", "rows", "text_match",
    )  # fmt: skip

    def __init__(self, fid: bytes, first_time: int, first_line: int) -> None:
        self.lines: list[tuple[int, bytes]] = []
        self.id = fid
        self.rows: list[ToRow] = []
        self.text_match = False
        self.finished = False
        self.accepted = False
        self.queued: weakref.ref[Queued] | None = None
        self.bq = False
        self.milter = False
        self.first_time = first_time
        self.first_line = first_line

    def get_queued(self) -> Queued | None:
        return self.queued() if self.queued is not None else None

    def add_row(self, to: bytes, relay: bytes, status: str, time: int) -> None:
        self.rows.append(ToRow(to, relay, status, time))
        if status == "A":
            self.accepted = True


@dataclass
class PrintFilter:
    """pmg-log-tracker's query filters (twin of ``correlate::PrintFilter``)."""

    sender: bytes = b""
    to: bytes = b""
    host: bytes = b""
    msgid: bytes = b""
    #: bytes (a queue id) or (time, rel)
    ids: list[bytes | tuple[int, int]] = field(default_factory=list)
    text: bool = False
    exclude_greylist: bool = False
    exclude_ndr: bool = False


@dataclass
class Prefilter:
    """pmgfast's print-time test (twin of ``correlate::Prefilter``): an entry not joined with
    others that no wanted mail can contain is not printed."""

    sender: bytes = b""
    to: bytes = b""
    host: bytes = b""
    text: bool = False
    start: int = 0
    end: int = 0

    def may_want(self, first_time: int, text_match: bool, clients: list[bytes],
                 senders: list[bytes], tos: list[bytes]) -> bool:  # fmt: skip
        return (
            self.start <= first_time <= self.end
            and (not self.text or text_match)
            and (not self.host or any(self.host.lower() in c.lower() for c in clients))
            and (not self.sender or any(self.sender.lower() in x.lower() for x in senders))
            and (not self.to or any(self.to.lower() in x.lower() for x in tos))
        )


def parse_id(text: str) -> bytes | tuple[int, int]:
    """``T%08lXL%08lX`` (as ``sscanf`` reads it) or a queue id."""
    b = text.encode("utf-8", "surrogateescape")

    def hex8(s: bytes) -> tuple[int, bytes] | None:
        n = 0
        while n < 8 and n < len(s) and s[n] in b"0123456789abcdefABCDEF":
            n += 1
        if n == 0:
            return None
        return int(s[:n], 16), s[n:]

    if b.startswith(b"T"):
        r = hex8(b[1:])
        if r is not None and r[1].startswith(b"L"):
            r2 = hex8(r[1][1:])
            if r2 is not None:
                return (r[0], r2[0])
    return b


def _contains(hay: bytes, needle: bytes) -> bool:
    return bool(hay) and needle.lower() in hay.lower()


def _until(data: bytes, stop: bytes) -> tuple[bytes, bytes]:
    i = data.find(stop)
    if i < 0:
        return data, b""
    return data[:i], data[i:]


def _until_space(data: bytes) -> bytes:
    for i, b in enumerate(data):
        if b in _SPACE:
            return data[:i]
    return data


class _Nothing:
    __slots__ = ("__weakref__",)


#: A weak reference that never resolves (a hop names no filter run).
_DEAD: weakref.ref[Filtered] = weakref.ref(_Nothing())  # type: ignore[arg-type]


def _is_loopback(relay: bytes) -> bool:
    i = relay.find(b"[")
    host = relay[i + 1 :] if i >= 0 else relay
    return host.startswith((b"127.", b"::1]", b"ipv6:::1]"))


def _queued_as(data: bytes) -> bytes | None:
    i = data.rfind(b"queued as ")
    if i < 0:
        return None
    found = postfix_qid(data[i + 10 :])
    return found[0] if found is not None else None


def _read_reject(data: bytes, lenient: bool) -> Rejected | None:
    i = data.find(b":")
    if i < 0:
        return None
    data = data[i + 1 :]
    i = data.find(b":")
    if i < 0:
        return None
    data = data[i + 1 :]
    i = data.find(b";")
    if i < 0:
        return None
    if lenient and not data.startswith(b"; from=<", i):
        i = data.find(b"; from=<")
        if i < 0:
            return None
    reply, data = data[:i], data[i:]
    status = "G" if GREYLIST_TEXT in reply else "N"
    if not data.startswith(b"; from=<"):
        return None
    sender, data = _until(data[8:], b">")
    if not data.startswith(b"> to=<"):
        return None
    to, _ = _until(data[6:], b">")
    return Rejected(sender, to, status, 0)


class Correlator:
    """Reads lines in order; :attr:`out` collects printed entries (take them after each line)."""

    def __init__(
        self,
        dialect: Dialect,
        start: int,
        end: int,
        keep_lines: bool,
        filter: PrintFilter,
        stamps: StampReader,
        prefilter: Prefilter | None = None,
    ) -> None:
        self.prefilter = prefilter
        self.dialect = dialect
        self.start = start
        self.end = end
        self.keep_lines = keep_lines
        self.pf = filter
        self.stamps = stamps
        self.strict = dialect is Dialect.PMG
        self.sessions: dict[int, Session] = {}
        self.queued: dict[bytes, Queued] = {}
        self.filtered: dict[bytes, Filtered] = {}
        self.by_msgid: dict[bytes, weakref.ref[Queued]] = {}
        self.tls_by_pid: dict[int, tuple[tuple[int, bytes], int]] = {}
        self.accept_targets: dict[bytes, weakref.ref[Filtered]] = {}
        self.flushed: dict[bytes, int] = {}
        self.last_time: int | None = None
        self.rel = 0
        self.prev_time = 0
        self.ctime = 0
        self.count = 0
        self.seq = 0
        self.lines_in_range = 0
        self.out: list[Entry] = []
        # the line being handled
        self.pid = 0
        self.time = 0
        self.lineno = 0
        self.hit = False
        self.lmtp = False

    def begin_file(self) -> None:
        self.prev_time = 0

    def take_printed(self) -> list[Entry]:
        out, self.out = self.out, []
        return out

    def feed(self, line: bytes, hit: bool, lineno: int | None = None) -> bool:
        """Reads one line; returns False when it lies after the end of the range."""
        found = self.stamps.read(line, self.strict)
        if found is None:
            return True
        time, rest = found
        self.last_time = time
        if time != self.prev_time:
            self.rel = 0
        else:
            self.rel += 1
        self.prev_time = time
        if time < self.start:
            return True
        if time > self.end:
            return False
        self.lines_in_range += 1
        if self.lines_in_range % PRUNE_EVERY == 0 and self.dialect is Dialect.PMGFAST:
            self.by_msgid = {k: w for k, w in self.by_msgid.items() if w() is not None}
            self.accept_targets = {k: w for k, w in self.accept_targets.items() if w() is not None}
            horizon = time - FLUSHED_MEMORY
            self.flushed = {k: t for k, t in self.flushed.items() if t >= horizon}
        header = read_header(rest, self.dialect)
        if header is None:
            return True
        _, service, pid, msg = header
        self.ctime = time
        self.pid = pid
        self.time = time
        self.lineno = lineno if lineno is not None else self.lines_in_range
        self.hit = hit
        self.lmtp = service is Service.LMTP
        if service is Service.FILTER:
            self.on_filter(msg, line)
        elif service is Service.POSTSCREEN:
            self.on_postscreen(msg, line)
        elif service is Service.QMGR:
            self.on_qmgr(msg, line)
        elif service in (Service.DELIVERY, Service.LMTP):
            self.on_delivery(msg, line)
        elif service is Service.SMTPD:
            self.on_smtpd(msg, line)
        elif service is Service.CLEANUP:
            self.on_cleanup(msg, line)
        elif service is Service.BOUNCE:
            self.on_bounce(msg, line)
        return True

    def finish(self) -> None:
        queued = sorted(self.queued.values(), key=lambda q: q.seq)
        self.queued = {}
        for q in queued:
            self.print_queued(q, q.smtpd)
        sessions = sorted(self.sessions.values(), key=lambda s: s.seq)
        self.sessions = {}
        for s in sessions:
            self.print_session(s)

    # --- entries ---------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _session(self) -> Session:
        s = self.sessions.get(self.pid)
        if s is None:
            s = Session(self.time, self.rel, self._next_seq(), self.lineno)
            self.sessions[self.pid] = s
        return s

    def queue_entry(self, qid: bytes) -> Queued:
        q = self.queued.get(qid)
        if q is None:
            q = Queued(qid, self.time, self._next_seq(), self.lineno, qid in self.flushed)
            if len(qid) <= 25:
                self.queued[qid] = q
        return q

    def _filter_run(self, fid: bytes) -> Filtered:
        f = self.filtered.get(fid)
        if f is None:
            f = Filtered(fid, self.time, self.lineno)
            if len(fid) <= 25:
                self.filtered[fid] = f
        return f

    # --- handlers (see handlers.rs for the line forms) -------------------------------------

    def on_filter(self, msg: bytes, line: bytes) -> None:
        found = filter_id_prefix(msg)
        if found is None:
            return
        fid, data = found
        fe = self._filter_run(fid)
        if self.hit:
            fe.text_match = True
        if self.keep_lines:
            fe.lines.append((self.lineno, line))
        if data.startswith(b"accept mail to <"):
            to, rest = _until(data[16:], b">")
            if not rest.startswith(b"> ("):
                return
            qid, _ = _until(rest[3:], b")")
            fe.add_row(to, qid, "A", self.time)
            mq = fe.get_queued()
            own = fe.milter and mq is not None and mq.qid == qid
            if not own and len(qid) <= 25:
                self.accept_targets[qid] = weakref.ref(fe)
            qe = None if fe.milter else self.queued.get(qid)
            if qe is not None and not qe.filtered:
                qe.bq_filtered = True
                qe.filter = fe
                fe.queued = weakref.ref(qe)
        elif data.startswith(b"moved mail for <"):
            to, rest = _until(data[16:], b">")
            i = rest.find(b"quarantine - ")
            if i < 0:
                return
            q = filter_id(rest[i + 13 :])
            if q is None:
                return
            fe.add_row(to, q[0], "Q", self.time)
        elif data.startswith(b"block mail to <"):
            to, _ = _until(data[15:], b">")
            fe.add_row(to, b"none", "B", self.time)
        elif data.startswith(b"processing time: "):
            fe.finished = True
        elif data.startswith(b"queue="):
            found_q = postfix_qid(data[6:])
            if found_q is None:
                return
            qid, rest = found_q
            qe = self.queue_entry(qid)
            qe.milter = True
            qe.bq_filtered = True
            qe.filter = fe
            i = rest.find(b" from=<")
            if i >= 0:
                sender, rest = _until(rest[i + 7 :], b">")
                if not qe.sender:
                    qe.sender = sender
                if rest.startswith(b"> size="):
                    size = rest[7:]
                    n = 0
                    while n < len(size) and 48 <= size[n] <= 57:
                        n += 1
                    if n and qe.size == 0 and int(size[:n]) < 1 << 64:
                        qe.size = int(size[:n])
            fe.bq = True
            fe.milter = True
            fe.queued = weakref.ref(qe)

    def on_postscreen(self, msg: bytes, line: bytes) -> None:
        prefix = b"NOQUEUE: reject: RCPT from "
        if not msg.startswith(prefix):
            return
        data = msg[len(prefix) :]
        i = data.find(b"; client [")
        if i < 0:
            return
        client, data = _until(data[i + 10 :], b"]")
        i = data.find(b"; from=<")
        if i < 0:
            return
        sender, data = _until(data[i + 8 :], b">")
        if not data.startswith(b">, to=<"):
            return
        to, _ = _until(data[7:], b">")
        se = self._session()
        if self.hit:
            se.text_match = True
        if self.keep_lines:
            se.lines.append((self.lineno, line))
        se.rejected.append(Rejected(sender, to, "N", self.time))
        se.set_client(client)
        se.disconnected = True
        self.print_session(se)
        self.sessions.pop(self.pid, None)

    def on_qmgr(self, msg: bytes, line: bytes) -> None:
        found = postfix_qid_prefix(msg)
        if found is None:
            return
        qid, data = found
        qe = self.queue_entry(qid)
        if self.hit:
            qe.text_match = True
        qe.cleanup = True
        if self.keep_lines:
            qe.lines.append((self.lineno, line))
        if data.startswith(b"from=<"):
            sender, data = _until(data[6:], b">")
            if not data.startswith(b">, size="):
                return
            qe.sender = sender
            size = data[8:]
            n = 0
            while n < len(size) and 48 <= size[n] <= 57:
                n += 1
            if n and int(size[:n]) < 1 << 64:
                qe.size = int(size[:n])
            return
        if data != b"removed":
            return
        qe.removed = True
        self.finalize_queued(qe)

    def on_delivery(self, msg: bytes, line: bytes) -> None:
        if msg.startswith(
            (b"Trusted TLS connection established to", b"Untrusted TLS connection established to")
        ):
            self.tls_by_pid[self.pid] = ((self.lineno, line if self.keep_lines else b""), self.time)
            return
        found = postfix_qid_prefix(msg)
        if found is None:
            return
        qid, data = found
        qe = self.queue_entry(qid)
        if self.hit:
            qe.text_match = True
        qe.cleanup = True
        if self.keep_lines:
            qe.lines.append((self.lineno, line))
        tls = self.tls_by_pid.pop(self.pid, None)
        if tls is not None and self.keep_lines:
            qe.lines.append(tls[0])
        if not data.startswith(b"to=<"):
            return
        to, data = _until(data[4:], b">")
        i = data.find(b"relay=")
        if i < 0:
            return
        relay, data = _until(data[i + 6 :], b",")
        i = data.find(b"dsn=")
        if i < 0:
            return
        data = data[i + 4 :]
        if not data[:1].isdigit():
            return
        status = chr(data[0])
        if self.dialect is Dialect.PMGFAST and status == "2" and _is_loopback(relay):
            hop = _queued_as(data)
            if hop is not None:
                if len(hop) <= 25:
                    self.accept_targets[hop] = _DEAD
                status, relay = HOP, hop
        qe.rows.append(ToRow(to, relay, status, self.time))
        if not self.lmtp:
            return
        i = data.find(b"status=sent (250 2.")
        if i < 0:
            return
        data = data[i + 19 :]
        if data.startswith(b"5.0 OK"):
            rest = data[8:] if len(data) >= 8 else None
        elif data.startswith(b"7.0 BLOCKED"):
            rest = data[13:] if len(data) >= 13 else None
        else:
            rest = None
        f = filter_id(rest) if rest is not None else None
        if f is None:
            return
        qe.filtered = True
        fe = self.filtered.get(f[0])
        if fe is None:
            return
        qe.filter = fe
        other = fe.get_queued()
        if other is not None and other is not qe:
            other.filtered = False
            other.bq_filtered = False
            other.filter = None
            fe.queued = weakref.ref(qe)

    def on_smtpd(self, msg: bytes, line: bytes) -> None:
        se = self._session()
        if self.hit:
            se.text_match = True
        if self.keep_lines:
            se.lines.append((self.lineno, line))
        if msg.startswith(b"connect from "):
            se.set_client(msg[13:])
            return
        if msg.startswith(b"disconnect from"):
            self._on_disconnect(se)
            return
        if msg.startswith(b"NOQUEUE:"):
            r = _read_reject(msg[8:], self.dialect is Dialect.PMGFAST)
            if r is not None:
                r.time = self.time
                se.rejected.append(r)
            return
        if msg.startswith(b"proxy-accept: "):
            self._on_proxy_accept(se, msg[14:])
            return
        if msg.startswith(b"proxy-reject: "):
            self._on_proxy_reject(se, msg[14:])
            return
        found = postfix_qid_prefix(msg)
        if found is None:
            return
        qid, data = found
        qe = self.queue_entry(qid)
        if self.hit:
            qe.text_match = True
        self.add_ref(se, qe, False)
        if data.startswith(b"client="):
            qe.set_client(_until_space(data[7:]))
            if self.dialect is Dialect.PMGFAST and b", orig_queue_id=" in data and len(qid) <= 25:
                self.accept_targets[qid] = _DEAD
            return
        if self.dialect is Dialect.PMGFAST and data.startswith((b"reject: ", b"milter-reject: ")):
            r = _read_reject(data, True)
            if r is not None:
                r.time = self.time
                se.rejected.append(r)

    def _on_disconnect(self, se: Session) -> None:
        self.sessions.pop(self.pid, None)
        se.disconnected = True
        if self.drop_unqueued(se) == 0:
            self.print_session(se)
            f = se.get_filter()
            if f is not None:
                self.filtered.pop(f.id, None)
            self.sessions.pop(0, None)
        else:
            if self.dialect is Dialect.PMGFAST and se.rejected:
                self.print_session(se)
            self.finalize_session(se)

    def _on_proxy_accept(self, se: Session, data: bytes) -> None:
        if not data.startswith(b"END-OF-MESSAGE: "):
            return
        data = data[16:]
        if not data.startswith(b"250 2.5.0 OK ("):
            return
        found = filter_id(data[14:])
        if found is None:
            return
        fid, data = found
        fe = self._filter_run(fid)
        fe.bq = True
        if not fe.accepted:
            se.filter = weakref.ref(fe)
            i = data.find(b"from=<")
            if i >= 0:
                se.bq_from = _until(data[i + 6 :], b">")[0]
        else:
            qe = fe.get_queued()
            if qe is not None:
                qe.bq_session = se
                self.add_ref(se, qe, True)
        se.bq_accepted = True

    def _on_proxy_reject(self, se: Session, data: bytes) -> None:
        if not data.startswith(b"END-OF-MESSAGE: "):
            return
        data = data[16:]
        se.bq_rejected = True
        i = data.find(b"(")
        if i >= 0:
            data = data[i + 1 :]
            found = filter_id(data)
            if found is not None:
                fe = self._filter_run(found[0])
                fe.bq = True
                se.filter = weakref.ref(fe)
                j = data.find(b"from=<")
                if j >= 0:
                    se.bq_from = _until(data[j + 6 :], b">")[0]
        else:
            j = data.find(b"from=<")
            if j >= 0:
                data = data[j + 6 :]
                sender, _ = _until(data, b">")
                se.bq_from = sender
                k = data.find(b"to=<")
                if k >= 0:
                    to, _ = _until(data[k + 4 :], b">")
                    se.rejected.append(Rejected(sender, to, "N", self.time))

    def on_bounce(self, msg: bytes, line: bytes) -> None:
        found = postfix_qid_prefix(msg)
        if found is None:
            return
        qe = self.queued.get(found[0])
        if qe is None:
            return
        if self.hit:
            qe.text_match = True
        if self.keep_lines:
            qe.lines.append((self.lineno, line))

    def on_cleanup(self, msg: bytes, line: bytes) -> None:
        found = postfix_qid_prefix(msg)
        if found is None:
            return
        qid, data = found
        qe = self.queue_entry(qid)
        if self.hit:
            qe.text_match = True
        if self.keep_lines:
            qe.lines.append((self.lineno, line))
        if not data.startswith(b"message-id="):
            if data.startswith(
                (b"milter-reject: END-OF-MESSAGE ", b"milter-discard: END-OF-MESSAGE ")
            ):
                self._on_milter_end(qe, data)
            return
        msgid = _until_space(data[11:])
        if not msgid:
            return
        if not qe.msgid:
            qe.msgid = msgid
        qe.cleanup = True
        if self.dialect is Dialect.PMGFAST:
            return
        w = self.by_msgid.pop(msgid, None)
        if w is not None:
            other = w()
            if other is not None:
                if other is qe:
                    self.by_msgid[msgid] = w
                else:
                    qe.twin = w
                    other.twin = weakref.ref(qe)
        else:
            self.by_msgid[msgid] = weakref.ref(qe)

    def _on_milter_end(self, qe: Queued, data: bytes) -> None:
        linked = qe.milter
        if not linked and self.dialect is not Dialect.PMGFAST:
            return
        qe.cleanup = True
        i = data.find(b"; from=<")
        if i >= 0:
            sender, rest = _until(data[i + 8 :], b">")
            if not qe.sender:
                qe.sender = sender
            j = rest.find(b" to=<")
            if not linked and j >= 0:
                to, _ = _until(rest[j + 5 :], b">")
                status = "N" if data.startswith(b"milter-reject") else "B"
                qe.rows.append(ToRow(to, b"none", status, self.time))
        qe.removed = True
        self.finalize_queued(qe)

    def add_ref(self, se: Session, qe: Queued, bq: bool) -> None:
        if not bq and qe.smtpd is not None:
            return
        for w in se.queued:
            if w() is qe:
                return
        se.queued.append(weakref.ref(qe))
        if not bq:
            qe.smtpd = se

    # --- printing (see print.rs) -----------------------------------------------------------

    def print_session(self, se: Session) -> None:
        f = self.pf
        if f.msgid:
            return
        if f.host and not _contains(se.client, f.host):
            return
        if f.ids:
            found = False
            for m in f.ids:
                if isinstance(m, bytes):
                    return
                if m == (se.time, se.rel):
                    found = True
                    break
            if not found:
                return
        if not self._session_wanted(se):
            return
        fe = se.get_filter()
        if f.text and not se.text_match and not (fe is not None and fe.text_match):
            return
        p = self.prefilter
        if p is not None:
            first = se.time if fe is None else min(se.time, fe.first_time)
            text = se.text_match or (fe is not None and fe.text_match)
            senders = [r.sender for r in se.rejected] + [se.bq_from]
            tos = [r.to for r in se.rejected] + ([t.to for t in fe.rows] if fe is not None else [])
            if not p.may_want(first, text, [se.client], senders, tos):
                return
        rows = [
            Row(r.time, r.status, r.sender, r.to, None)
            for r in reversed(se.rejected)
            if r.status != INVALID
        ]
        first_time = se.time
        fid = b""
        text_match = se.text_match
        if fe is not None:
            fid = fe.id
            text_match = text_match or fe.text_match
            first_time = min(first_time, fe.first_time)
            if fe.bq and not fe.accepted and (se.bq_accepted or se.bq_rejected):
                rows.extend(
                    Row(t.time, t.status, se.bq_from, t.to, t.relay) for t in reversed(fe.rows)
                )
        sections: list[tuple[object, list[tuple[int, bytes]]]] = []
        if self.keep_lines:
            lines = list(se.lines)
            if fe is not None:
                lines.extend(fe.lines)
            lines.sort(key=lambda x: x[0])
            sections.append(("LOGS", lines))
        self.count += len(rows)
        self.out.append(
            Entry(
                (se.time, se.rel),
                self.ctime,
                0,
                se.client,
                se.client,
                b"",
                fid,
                text_match,
                rows,
                sections,
                first_time,
            )
        )

    def _session_wanted(self, se: Session) -> bool:
        f = self.pf
        if not f.sender and not f.to and not f.exclude_greylist and not f.exclude_ndr:
            return True
        found = False
        for r in reversed(se.rejected):
            if (
                (f.sender and not _contains(r.sender, f.sender))
                or (f.exclude_greylist and r.status == "G")
                or (f.exclude_ndr and not r.sender)
                or (f.to and not _contains(r.to, f.to))
            ):
                r.status = INVALID
            if r.status != INVALID:
                found = True
        if not found and se.filter is None:
            return False
        fe = se.get_filter()
        if fe is None:
            return True
        if f.sender and not _contains(se.bq_from, f.sender):
            return False
        if f.to and fe.bq and not fe.accepted:
            kept = [t for t in fe.rows if _contains(t.to, f.to)]
            found = found or bool(kept)
            fe.rows = kept
            if not found:
                return False
        return True

    def print_queued(self, qe: Queued, se: Session | None) -> None:
        f = self.pf
        fe = qe.filter
        if f.msgid and (not qe.msgid or qe.msgid.lower() != f.msgid.lower()):
            return
        if f.ids:
            found = False
            for m in f.ids:
                if isinstance(m, bytes):
                    if (fe is not None and fe.id == m) or qe.qid == m:
                        found = True
                        break
                elif se is not None and (se.time, se.rel) == m:
                    found = True
                    break
            if not found:
                return
        if f.host:
            s_match = se is not None and _contains(se.client, f.host)
            if not s_match and not _contains(qe.client, f.host):
                return
        if f.sender:
            if not _contains(qe.sender, f.sender):
                return
        elif f.exclude_ndr and not qe.sender:
            return
        if f.to:
            kept = [t for t in qe.rows if _contains(t.to, f.to)]
            found = bool(kept)
            qe.rows = kept
            if fe is not None:
                kept_f = [t for t in fe.rows if _contains(t.to, f.to)]
                found = found or bool(kept_f)
                fe.rows = kept_f
            if not found:
                return
        if f.text and not (
            qe.text_match
            or (se is not None and se.text_match)
            or (fe is not None and fe.text_match)
        ):
            return
        bq_session = qe.bq_session
        is_bq_session = bq_session is not None and se is not None and bq_session is se
        if is_bq_session and se is not None and not se.disconnected:
            return
        if self.prefilter is not None and not self._queued_may_be_wanted(
            self.prefilter, qe, se, fe, bq_session
        ):
            return
        if qe.bq_filtered:
            mapping = {"2": "P", "4": "D", "5": "R"}
            for r in qe.rows:
                r.status = mapping.get(r.status, r.status)
        origin = bq_session.client if bq_session is not None and bq_session.client else b""
        if qe.client:
            client = qe.client
        elif not is_bq_session:
            client = se.client if se is not None else b""
        else:
            client = qe.smtpd.client if qe.smtpd is not None else b""
        rows: list[Row] = []
        filter_done = fe is not None and fe.finished and fe.bq
        for r in reversed(qe.rows):
            if not r.to:
                continue
            shown = r
            if r.status == "2" and fe is not None and (not qe.bq_filtered or filter_done):
                for r2 in reversed(fe.rows):
                    if r2.to == r.to:
                        shown = r2
                        break
            rows.append(
                Row(
                    r.time,
                    shown.status,
                    qe.sender,
                    shown.to,
                    r.relay if qe.bq_filtered else shown.relay,
                )
            )
        if qe.bq_filtered and filter_done and fe is not None:
            own = [r.to for r in qe.rows]
            fe.rows = [t for t in fe.rows if t.to not in own]
            rows.extend(Row(t.time, t.status, qe.sender, t.to, t.relay) for t in reversed(fe.rows))
        sections: list[tuple[object, list[tuple[int, bytes]]]] = []
        if self.keep_lines:
            smtp: list[tuple[int, bytes]] | None = None
            if not is_bq_session:
                if se is not None:
                    smtp = list(se.lines)
                    if bq_session is not None:
                        smtp.extend(bq_session.lines)
                    smtp.sort(key=lambda x: x[0])
            elif qe.smtpd is not None:
                smtp = list(qe.smtpd.lines)
                if se is not None:
                    smtp.extend(se.lines)
                smtp.sort(key=lambda x: x[0])
            if smtp:
                sections.append(("SMTP", smtp))
            if fe is not None and (not qe.bq_filtered or (fe.finished and fe.bq)) and fe.lines:
                sections.append((("FILTER", fe.id), list(fe.lines)))
            if qe.lines:
                sections.append(("QMGR", sorted(qe.lines, key=lambda x: x[0])))
        first_time = qe.first_time
        for s in (se, bq_session, qe.smtpd):
            if s is not None:
                first_time = min(first_time, s.time)
        text_match = qe.text_match or (se is not None and se.text_match)
        fid = b""
        if fe is not None:
            first_time = min(first_time, fe.first_time)
            text_match = text_match or fe.text_match
            fid = fe.id
        target = self.accept_targets.pop(qe.qid, None)
        relayed = False
        if target is not None:
            tf = target()
            relayed = True if fe is None or tf is not fe else not (fe.bq or qe.milter)
        self.count += len(rows)
        self.out.append(
            Entry(
                qe.qid,
                self.ctime,
                qe.size,
                client,
                origin or client,
                qe.msgid,
                fid,
                text_match,
                rows,
                sections,
                first_time,
                relayed,
                False,
                qe.continued,
            )
        )

    def _queued_may_be_wanted(
        self,
        p: Prefilter,
        qe: Queued,
        se: Session | None,
        fe: Filtered | None,
        bq: Session | None,
    ) -> bool:
        target = self.accept_targets.get(qe.qid)
        named = False
        if target is not None:
            tf = target()
            named = True if fe is None or tf is not fe else not (fe.bq or qe.milter)
        joined = (
            named
            or (
                fe is not None
                and any(r.status == "A" and r.relay and r.relay != qe.qid for r in fe.rows)
            )
            or any(r.status == HOP for r in qe.rows)
        )
        if joined:
            return True
        first = qe.first_time
        text = qe.text_match
        clients = [qe.client]
        for s in (se, bq, qe.smtpd):
            if s is not None:
                first = min(first, s.time)
                text = text or s.text_match
                clients.append(s.client)
        if fe is not None:
            first = min(first, fe.first_time)
            text = text or fe.text_match
        tos = [r.to for r in qe.rows] + ([r.to for r in fe.rows] if fe is not None else [])
        return p.may_want(first, text, clients, [qe.sender], tos)

    def finalize_queued(self, qe: Queued) -> None:
        if not qe.removed:
            return
        if qe.smtpd is not None and not qe.smtpd.disconnected:
            return
        if qe.bq_filtered and qe.bq_session is not None and not qe.bq_session.disconnected:
            return
        twin = qe.twin() if qe.twin is not None else None
        if twin is not None:
            if not twin.removed:
                return
            twin.twin = None
            self.finalize_queued(twin)
        fe = qe.filter
        if fe is not None and not qe.bq_filtered and not fe.finished:
            return
        smtpd = qe.smtpd
        self.print_queued(qe, smtpd)
        self.free_queued(qe.qid, smtpd)
        if fe is not None and (not qe.bq_filtered or qe.milter):
            self.filtered.pop(fe.id, None)

    def drop_unqueued(self, se: Session) -> int:
        count = 0
        keep: list[weakref.ref[Queued]] = []
        unqueued: list[Queued] = []
        for w in se.queued:
            q = w()
            if q is None:
                continue
            if q.cleanup:
                count += 1
                keep.append(w)
            else:
                unqueued.append(q)
        se.queued = keep
        for q in reversed(unqueued):
            self.free_queued(q.qid, se)
        return count

    def finalize_session(self, se: Session) -> None:
        refs = [q for q in (w() for w in se.queued) if q is not None]
        ready: list[Queued] = []
        for q in refs:
            if not q.removed:
                continue
            if q.filter is not None and not q.bq_filtered and not q.filter.finished:
                continue
            if not se.bq_accepted and q.bq_session is not None and not q.bq_session.disconnected:
                self.add_ref(q.bq_session, q, True)
                continue
            ready.append(q)
        for q in reversed(ready):
            self.print_queued(q, se)
            self.free_queued(q.qid, se)
            if q.filter is not None:
                self.filtered.pop(q.filter.id, None)

    def free_queued(self, qid: bytes, se: Session | None) -> None:
        q = self.queued.get(qid)
        if q is not None and se is not None:
            se.queued = [w for w in se.queued if (x := w()) is not None and x is not q]
        self.queued.pop(qid, None)
