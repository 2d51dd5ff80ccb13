"""The MTA side of the milter protocol (version 6): what Postfix says to a milter, in Python.

The load generator in ``bench/``, the pool tests and ``pmgfast milter --check`` talk to the pool
through this client, with no Postfix in the loop::

    with MilterClient.connect("inet:10024@127.0.0.1") as client:
        client.connection("mail.example.org", "192.0.2.1", macros={"{daemon_name}": "pmgfast-in"})
        result = client.message("a@example.org", ["b@example.net"], raw_bytes, macros={"i": "QID"})
        result.action          # "accept", "continue", "reject", "tempfail", "discard", ...
        result.reply           # e.g. "554 5.7.1 Rejected for policy reasons (ABC123)"
        result.modifications   # [("delrcpt", ...), ("chgheader", ...), ("replbody", ...)]

Stages the milter declared it does not want (``SMFIP_NO*``) are not sent, and stages it
declared it will not answer (``SMFIP_NR_*``) are not waited for, so one message costs one round
trip when the milter only answers at end of message (as pmgfast's does).
"""

from __future__ import annotations

import contextlib
import socket
import struct
from dataclasses import dataclass, field
from types import TracebackType

# Commands (MTA -> milter)
C_ABORT, C_BODY, C_CONNECT, C_MACRO, C_BODYEOB = b"A", b"B", b"C", b"D", b"E"
C_HELO, C_QUIT_NC, C_HEADER, C_MAIL, C_EOH = b"H", b"K", b"L", b"M", b"N"
C_OPTNEG, C_QUIT, C_RCPT, C_DATA = b"O", b"Q", b"R", b"T"

# Protocol flags (SMFIP_*)
P_NOCONNECT, P_NOHELO, P_NOMAIL, P_NORCPT = 0x1, 0x2, 0x4, 0x8
P_NOBODY, P_NOHDRS, P_NOEOH, P_NR_HDR = 0x10, 0x20, 0x40, 0x80
P_NOUNKNOWN, P_NODATA, P_SKIP, P_RCPT_REJ = 0x100, 0x200, 0x400, 0x800
P_NR_CONN, P_NR_HELO, P_NR_MAIL, P_NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000
P_NR_DATA, P_NR_UNKN, P_NR_EOH, P_NR_BODY = 0x10000, 0x20000, 0x40000, 0x80000
P_HDR_LEADSPC = 0x100000
ALL_PROTOCOL = 0x1FFFFF
ALL_ACTIONS = 0x1FF
VERSION = 6
MAX_BODY_CHUNK = 65535

FINAL = {
    b"a": "accept",
    b"c": "continue",
    b"d": "discard",
    b"r": "reject",
    b"t": "tempfail",
    b"y": "reply",
    b"f": "connfail",
    b"4": "shutdown",
}
MODIFICATIONS = {
    b"+": "addrcpt",
    b"2": "addrcpt_par",
    b"-": "delrcpt",
    b"b": "replbody",
    b"e": "chgfrom",
    b"h": "addheader",
    b"i": "insheader",
    b"m": "chgheader",
    b"q": "quarantine",
}


class MilterProtocolError(RuntimeError):
    """The milter broke the protocol or closed the connection."""


@dataclass
class StageResult:
    """The answer to one stage: the final action, the reply text for ``reply``, and the
    modification requests that came before it (only at end of message)."""

    action: str
    reply: str = ""
    modifications: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    @property
    def code(self) -> str:
        """The SMTP code Postfix would give: ``250`` for accept/continue/discard."""
        if self.action == "reply":
            return self.reply[:3]
        return {"reject": "550", "tempfail": "451"}.get(self.action, "250")

    def body(self) -> bytes | None:
        """The replacement body, when the milter replaced it (chunks joined)."""
        chunks = [args[0] for name, args in self.modifications if name == "replbody"]
        return b"".join(chunks) if chunks else None  # type: ignore[arg-type]


def _cstr(text: str | bytes) -> bytes:
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return data + b"\0"


def _packet(command: bytes, data: bytes = b"") -> bytes:
    return struct.pack("!I", len(data) + 1) + command + data


def _macro_packet(stage: bytes, macros: dict[str, str] | None) -> bytes:
    if not macros:
        return b""
    data = stage + b"".join(_cstr(k) + _cstr(v) for k, v in macros.items())
    return _packet(C_MACRO, data)


def parse_spec(spec: str) -> tuple[int, object]:
    """libmilter's socket notation (``inet:PORT@HOST``, ``inet6:...``, ``unix:/path``) as a
    (family, address) pair for :func:`socket.socket`."""
    kind, _, rest = spec.partition(":")
    if kind in ("unix", "local"):
        return socket.AF_UNIX, rest
    if kind in ("inet", "inet6"):
        port, _, host = rest.partition("@")
        family = socket.AF_INET6 if kind == "inet6" else socket.AF_INET
        return family, (host.strip("[]") or "127.0.0.1", int(port))
    raise ValueError(f"unknown milter socket {spec!r} (inet:PORT@HOST, inet6:, unix:/PATH)")


class MilterClient:
    """One milter connection, as one Postfix smtpd process holds it for one SMTP session."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()
        self.protocol = 0
        self.actions = 0
        self.version = 0

    @classmethod
    def connect(cls, spec: str, timeout: float = 60.0) -> MilterClient:
        family, address = parse_spec(spec)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)  # type: ignore[arg-type]
            if family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            raise
        client = cls(sock)
        client.negotiate()
        return client

    def __enter__(self) -> MilterClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- wire ------------------------------------------------------------------------------
    def _recv_packet(self) -> tuple[bytes, bytes]:
        while True:
            if len(self._buffer) >= 4:
                (length,) = struct.unpack_from("!I", self._buffer)
                if length < 1 or length > 0x7FFFFFF:
                    raise MilterProtocolError(f"bad packet length {length}")
                if len(self._buffer) >= 4 + length:
                    command = bytes(self._buffer[4:5])
                    data = bytes(self._buffer[5 : 4 + length])
                    del self._buffer[: 4 + length]
                    return command, data
            chunk = self.sock.recv(65536)
            if not chunk:
                raise MilterProtocolError("the milter closed the connection")
            self._buffer += chunk

    def _read_result(self) -> StageResult:
        modifications: list[tuple[str, tuple[object, ...]]] = []
        while True:
            command, data = self._recv_packet()
            if command in FINAL:
                reply = data.rstrip(b"\0").decode("utf-8", "replace") if command == b"y" else ""
                return StageResult(FINAL[command], reply, modifications)
            if command == b"p":  # progress: keep waiting
                continue
            name = MODIFICATIONS.get(command)
            if name is None:
                raise MilterProtocolError(f"unexpected milter answer {command!r}")
            modifications.append((name, _decode_modification(command, data)))

    def _stage(self, packets: bytes, expect_reply: bool) -> StageResult | None:
        self.sock.sendall(packets)
        return self._read_result() if expect_reply else None

    # --- protocol --------------------------------------------------------------------------
    def negotiate(self) -> None:
        self.sock.sendall(
            _packet(C_OPTNEG, struct.pack("!III", VERSION, ALL_ACTIONS, ALL_PROTOCOL))
        )
        command, data = self._recv_packet()
        if command != C_OPTNEG or len(data) < 12:
            raise MilterProtocolError(f"bad option negotiation answer {command!r}")
        self.version, self.actions, self.protocol = struct.unpack_from("!III", data)

    def _wants(self, no_flag: int) -> bool:
        return not self.protocol & no_flag

    def _answers(self, nr_flag: int) -> bool:
        return not self.protocol & nr_flag

    def connection(
        self,
        hostname: str,
        address: str,
        port: int = 25,
        helo: str | None = None,
        macros: dict[str, str] | None = None,
    ) -> StageResult | None:
        """The connect (and HELO) stages; returns the last answer, if the milter gives one."""
        result = None
        if self._wants(P_NOCONNECT):
            family = b"6" if ":" in address else b"4"
            data = _cstr(hostname) + family + struct.pack("!H", port) + _cstr(address)
            packets = _macro_packet(C_CONNECT, macros) + _packet(C_CONNECT, data)
            result = self._stage(packets, self._answers(P_NR_CONN))
        if helo is not None and self._wants(P_NOHELO):
            result = self._stage(_packet(C_HELO, _cstr(helo)), self._answers(P_NR_HELO))
        return result

    def message(
        self,
        sender: str,
        recipients: list[str],
        raw: bytes,
        sender_params: list[str] | None = None,
        macros: dict[str, str] | None = None,
        mail_macros: dict[str, str] | None = None,
    ) -> StageResult:
        """One whole transaction: MAIL, RCPT..., DATA, headers, body, end of message.

        Everything the milter does not answer is sent in one write; an early rejection (an
        answer other than ``continue`` before end of message) ends the transaction and is
        returned, as Postfix would treat it.
        """
        head, body = split_message(raw)
        pending = bytearray()

        def stage(packets: bytes, nr_flag: int) -> StageResult | None:
            pending.extend(packets)
            if not self._answers(nr_flag):
                return None
            self.sock.sendall(pending)
            pending.clear()
            return self._read_result()

        steps: list[tuple[bytes, int]] = []
        if self._wants(P_NOMAIL):
            args = _cstr(f"<{sender}>") + b"".join(_cstr(p) for p in sender_params or [])
            steps.append((_macro_packet(C_MAIL, mail_macros) + _packet(C_MAIL, args), P_NR_MAIL))
        if self._wants(P_NORCPT):
            for rcpt in recipients:
                steps.append((_packet(C_RCPT, _cstr(f"<{rcpt}>")), P_NR_RCPT))
        if self._wants(P_NODATA):
            steps.append((_packet(C_DATA), P_NR_DATA))
        if self._wants(P_NOHDRS):
            lead = bool(self.protocol & P_HDR_LEADSPC)
            for name, value in parse_headers(head, keep_leading_space=lead):
                steps.append((_packet(C_HEADER, _cstr(name) + _cstr(value)), P_NR_HDR))
        if self._wants(P_NOEOH):
            steps.append((_packet(C_EOH), P_NR_EOH))
        if self._wants(P_NOBODY):
            for start in range(0, len(body), MAX_BODY_CHUNK):
                steps.append((_packet(C_BODY, body[start : start + MAX_BODY_CHUNK]), P_NR_BODY))
        for packets, nr_flag in steps:
            early = stage(packets, nr_flag)
            if early is not None and early.action != "continue":
                return early
        pending.extend(_macro_packet(C_BODYEOB, macros) + _packet(C_BODYEOB))
        self.sock.sendall(pending)
        return self._read_result()

    def prepare(
        self,
        sender: str,
        recipients: list[str],
        raw: bytes,
        macros: dict[str, str] | None = None,
    ) -> bytes | None:
        """The whole transaction as one byte string, for a milter that answers only at end of
        message (None otherwise); send it with :meth:`send_prepared`. Load generators encode
        each message once and replay it."""
        quiet = P_NR_MAIL | P_NR_RCPT | P_NR_DATA | P_NR_HDR | P_NR_EOH | P_NR_BODY
        if self.protocol & quiet != quiet:
            return None
        head, body = split_message(raw)
        out = [_packet(C_MAIL, _cstr(f"<{sender}>"))]
        out += [_packet(C_RCPT, _cstr(f"<{r}>")) for r in recipients]
        if self._wants(P_NODATA):
            out.append(_packet(C_DATA))
        lead = bool(self.protocol & P_HDR_LEADSPC)
        out += [
            _packet(C_HEADER, _cstr(n) + _cstr(v))
            for n, v in parse_headers(head, keep_leading_space=lead)
        ]
        out.append(_packet(C_EOH))
        out += [
            _packet(C_BODY, body[i : i + MAX_BODY_CHUNK])
            for i in range(0, len(body), MAX_BODY_CHUNK)
        ]
        out.append(_macro_packet(C_BODYEOB, macros) + _packet(C_BODYEOB))
        return b"".join(out)

    def send_prepared(self, data: bytes) -> StageResult:
        self.sock.sendall(data)
        return self._read_result()

    def abort(self) -> None:
        self.sock.sendall(_packet(C_ABORT))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(_packet(C_QUIT))
        self.sock.close()


def _decode_modification(command: bytes, data: bytes) -> tuple[object, ...]:
    if command == b"b":
        return (data,)
    if command in (b"i", b"m"):
        (index,) = struct.unpack_from("!I", data)
        parts = data[4:].split(b"\0")
        return (index, _text(parts[0]), _text(parts[1]) if len(parts) > 1 else "")
    parts = data.split(b"\0")
    return tuple(_text(p) for p in parts[:-1]) if data.endswith(b"\0") else (_text(data),)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def split_message(raw: bytes) -> tuple[bytes, bytes]:
    """Header block and body of a raw message; the body in SMTP form (CRLF line ends)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        index = raw.find(sep)
        if index >= 0:
            head, body = raw[:index], raw[index + len(sep) :]
            break
    else:
        head, body = raw, b""
    if b"\r\n" not in body and b"\n" in body:
        body = body.replace(b"\n", b"\r\n")
    elif b"\n" in body:
        body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return head, body


def parse_headers(head: bytes, keep_leading_space: bool = False) -> list[tuple[bytes, bytes]]:
    """The header fields of a header block as (name, value), continuation lines kept with
    ``\\n`` between them (as Postfix hands them to a milter)."""
    fields: list[tuple[bytes, bytes]] = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + b"\n" + line)
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name.strip():
            continue  # not a header line (From_ line, garbage): Postfix would not send it
        if not keep_leading_space:
            value = value.lstrip(b" \t")
        fields.append((name.rstrip(), value))
    return fields
