"""The clamd client: INSTREAM scans over pooled IDSESSION connections, within a time budget.

One :class:`ClamdClient` per worker process. In pooled mode its connections stay open in
clamd's ``IDSESSION`` mode, so a scan costs one command on an open socket instead of a connect
and a close; the pool is thread-safe (libmilter calls back from several threads) and
fork-aware: a client inherited across ``fork()`` drops the parent's sockets and opens its own.

Measured (``bench/bench_clamav.py``, clamd 1.4): over a Unix socket a session costs clamd
*more* than a fresh connection (it re-arms the session socket in its main loop after every
reply, one more thread wake-up per message), so a Unix-socket client connects per message by
default; a TCP client pools, saving the TCP handshake (a round trip to a remote clamd).
``pooled=True``/``False`` forces either way.

Every scan has a budget (seconds, connect included). :meth:`ClamdClient.scan` never raises for
clamd's faults: an unreachable daemon, a timeout, a reset connection or an unreadable reply is
an ``ERROR`` result, which the policy turns into a 451. A pooled connection that clamd closed
meanwhile (its ``IdleTimeout``, a restart) is detected and the scan is retried once on a fresh
connection, so a clamd restart costs no message a tempfail once clamd is back.

The message is streamed from memory or from a binary file (the milter's spill file), in
chunks, never copied to a temporary file; at most ``stream_max_length`` bytes are sent (clamd
would refuse more), and the result says when the tail was not scanned.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from pmgfast.clamav import protocol
from pmgfast.clamav.address import ClamdAddress
from pmgfast.clamav.conf import ClamdConf
from pmgfast.clamav.protocol import ReplyReader, Source
from pmgfast.clamav.result import ClamdResult, parse_reply, strip_session_id

DEFAULT_TIMEOUT = 300.0  # PMG's alarm around clamdscan: 5 minutes
DEFAULT_POOL_SIZE = 8
# clamd closes an idle IDSESSION after its IdleTimeout (default 30 s); drop ours a bit earlier.
DEFAULT_IDLE = 25.0
# Frames are gathered into one send() up to this size (one syscall for a typical mail).
_GATHER = 256 * 1024


class ClamdUnavailable(Exception):
    """clamd could not be reached or did not answer (for ping/version callers)."""


class _Expired(Exception):
    pass


class _Gone(Exception):
    """The connection died before clamd answered anything: safe to retry on a new one."""


class Deadline:
    """A point in time that socket operations must finish by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise _Expired
        return left


class _Connection:
    def __init__(self, sock: socket.socket, session: bool) -> None:
        self.sock = sock
        self.session = session
        self.requests = 0
        self.last_used = time.monotonic()
        self.reader = ReplyReader()
        self.pid = os.getpid()

    def send(self, data: bytes | bytearray | memoryview, deadline: Deadline) -> None:
        self.sock.settimeout(deadline.remaining())
        self.sock.sendall(data)

    def reply(self, deadline: Deadline) -> bytes:
        while True:
            self.sock.settimeout(deadline.remaining())
            data = self.sock.recv(4096)
            if not data:
                raise _Gone("clamd closed the connection without an answer")
            replies = self.reader.feed(data)
            if replies:
                return replies[0]

    def close(self, polite: bool = False) -> None:
        try:
            if polite and self.session and self.pid == os.getpid():
                self.sock.settimeout(0.5)
                self.sock.sendall(protocol.END)
        except OSError:
            pass
        finally:
            self.sock.close()


@dataclass
class PoolStats:
    """Counters of one client (benchmarks and the status command read them)."""

    scans: int = 0
    connects: int = 0
    reused: int = 0
    retries: int = 0
    errors: int = 0


class ClamdClient:
    """Scan messages with clamd. Thread-safe; one per worker process.

    ``pooled=False`` opens a connection per scan (plain ``INSTREAM``, no session), ``True`` keeps
    IDSESSION connections; ``None`` (default) pools TCP connections only (see the module text).
    """

    def __init__(
        self,
        address: ClamdAddress | str,
        *,
        stream_max_length: int = protocol.DEFAULT_STREAM_MAX,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = 10.0,
        chunk_size: int = protocol.DEFAULT_CHUNK,
        pool_size: int = DEFAULT_POOL_SIZE,
        idle_timeout: float = DEFAULT_IDLE,
        pooled: bool | None = None,
    ) -> None:
        self.address = ClamdAddress.parse(address) if isinstance(address, str) else address
        self.stream_max_length = stream_max_length
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.chunk_size = chunk_size
        self.pool_size = pool_size
        self.idle_timeout = idle_timeout
        self.pooled = self.address.path is None if pooled is None else pooled
        self.stats = PoolStats()
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @classmethod
    def from_conf(cls, conf: ClamdConf, **options: object) -> ClamdClient:
        """A client for the clamd that ``conf`` (a parsed clamd.conf) describes."""
        options.setdefault("stream_max_length", conf.stream_max_length)
        return cls(conf.address, **options)  # type: ignore[arg-type]

    # -- scanning -------------------------------------------------------------------------

    def scan(self, data: Source, timeout: float | None = None) -> ClamdResult:
        """Scan one message (bytes or a readable binary file); never raises for clamd faults."""
        started = time.monotonic()
        deadline = Deadline(self.timeout if timeout is None else timeout)
        start_pos = _tell(data)
        with self._lock:
            self.stats.scans += 1
        try:
            result = self._scan_once(data, deadline)
        except _Gone as gone:
            # A reused connection that clamd had closed: once more on a fresh one.
            if gone.args and gone.args[0] == "reused" and _rewind(data, start_pos):
                with self._lock:
                    self.stats.retries += 1
                try:
                    result = self._scan_once(data, deadline, fresh=True)
                except _Gone as again:
                    result = ClamdResult.failure(_gone_text(again))
                except (_Expired, TimeoutError):
                    result = _timed_out(deadline)
                except OSError as err:
                    result = ClamdResult.failure(f"clamd at {self.address}: {_os_text(err)}")
            else:
                result = ClamdResult.failure(_gone_text(gone))
        except (_Expired, TimeoutError):
            result = _timed_out(deadline)
        except OSError as err:
            result = ClamdResult.failure(f"clamd at {self.address}: {_os_text(err)}")
        except ValueError as err:  # an unreadable reply
            result = ClamdResult.failure(f"clamd at {self.address}: {err}")
        if result.is_error:
            with self._lock:
                self.stats.errors += 1
        return _with_elapsed(result, time.monotonic() - started)

    def _scan_once(self, data: Source, deadline: Deadline, fresh: bool = False) -> ClamdResult:
        conn, reused = self._acquire(deadline, fresh)
        ok = False
        try:
            stream = protocol.instream_chunks(data, self.stream_max_length, self.chunk_size)
            try:
                self._send_all(conn, protocol.INSTREAM, stream, deadline)
            except (BrokenPipeError, ConnectionResetError) as err:
                raise _Gone("reused" if reused else _os_text(err)) from None
            conn.requests += 1
            try:
                raw = conn.reply(deadline)
            except _Gone:
                raise _Gone("reused" if reused else "clamd closed the connection") from None
            except ConnectionResetError:
                raise _Gone("reused" if reused else "clamd reset the connection") from None
            if conn.session and not _session_id_matches(raw, conn.requests):
                return ClamdResult.failure(f"clamd answered out of turn: {raw[:100]!r}")
            result = parse_reply(raw)
            ok = not result.is_error
            if stream.truncated and not result.is_error:
                result = ClamdResult(result.verdict, result.name, truncated=True)
            return result
        finally:
            self._release(conn, ok)

    def _send_all(
        self,
        conn: _Connection,
        head: bytes,
        frames: Iterable[bytes | memoryview],
        deadline: Deadline,
    ) -> None:
        buffer = bytearray(head)
        for frame in frames:
            buffer += frame
            if len(buffer) >= _GATHER:
                conn.send(buffer, deadline)
                buffer = bytearray()
        if buffer:
            conn.send(buffer, deadline)

    # -- other commands ---------------------------------------------------------------------

    def command(self, command: bytes, timeout: float = 10.0) -> str:
        """Send one simple command (PING, VERSION, STATS) on its own connection; its reply.

        Raises :class:`ClamdUnavailable` when clamd cannot be reached or does not answer.
        """
        deadline = Deadline(timeout)
        try:
            conn = self._connect(deadline, session=False)
        except (OSError, _Expired) as err:
            raise ClamdUnavailable(f"clamd at {self.address}: {_os_text(err)}") from None
        try:
            conn.send(command, deadline)
            return conn.reply(deadline).decode("utf-8", "replace").strip()
        except (OSError, _Expired, _Gone, ValueError) as err:
            raise ClamdUnavailable(f"clamd at {self.address}: {_os_text(err)}") from None
        finally:
            conn.close()

    def ping(self, timeout: float = 5.0) -> bool:
        try:
            return self.command(protocol.PING, timeout) == "PONG"
        except ClamdUnavailable:
            return False

    def version(self, timeout: float = 5.0) -> str:
        """``ClamAV 1.4.6/27460/Tue Nov 24 08:20:52 2026`` (engine/daily version/daily date)."""
        return self.command(protocol.VERSION, timeout)

    # -- the pool ---------------------------------------------------------------------------

    def _connect(self, deadline: Deadline, session: bool) -> _Connection:
        sock = socket.socket(self.address.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(min(self.connect_timeout, deadline.remaining()))
            sock.connect(self.address.sockaddr)
            if self.address.path is None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(sock, session)
            if session:
                conn.send(protocol.IDSESSION, deadline)
        except BaseException:
            sock.close()
            raise
        with self._lock:
            self.stats.connects += 1
        return conn

    def _acquire(self, deadline: Deadline, fresh: bool) -> tuple[_Connection, bool]:
        if not self.pooled:
            return self._connect(deadline, session=False), False
        stale: list[_Connection] = []
        conn = None
        with self._lock:
            if os.getpid() != self._pid:  # forked: these sockets belong to the parent
                stale, self._idle = self._idle, []
                self._pid = os.getpid()
            now = time.monotonic()
            while self._idle and not fresh:
                candidate = self._idle.pop()
                if now - candidate.last_used < self.idle_timeout:
                    conn = candidate
                    self.stats.reused += 1
                    break
                stale.append(candidate)
        for old in stale:
            old.close(polite=old.pid == os.getpid())
        if conn is not None:
            return conn, True
        return self._connect(deadline, session=True), False

    def _release(self, conn: _Connection, reusable: bool) -> None:
        if not (self.pooled and reusable and conn.pid == os.getpid()):
            conn.close()
            return
        conn.last_used = time.monotonic()
        with self._lock:
            if len(self._idle) < self.pool_size and self._pid == conn.pid:
                self._idle.append(conn)
                return
        conn.close(polite=True)

    def close(self) -> None:
        """Close every idle connection (END the sessions politely)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close(polite=True)

    @property
    def idle_connections(self) -> int:
        with self._lock:
            return len(self._idle)

    def __enter__(self) -> ClamdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tell(data: Source) -> int | None:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return 0
    try:
        return data.tell() if data.seekable() else None
    except (OSError, ValueError):
        return None


def _rewind(data: Source, position: int | None) -> bool:
    if position is None:
        return False
    if isinstance(data, (bytes, bytearray, memoryview)):
        return True
    stream: BinaryIO = data
    try:
        stream.seek(position)
    except (OSError, ValueError):
        return False
    return True


def _session_id_matches(raw: bytes, expected: int) -> bool:
    text = raw.decode("utf-8", "replace")
    head, sep, _ = text.partition(": ")
    return bool(sep) and head.isdigit() and int(head) == expected and bool(strip_session_id(text))


def _with_elapsed(result: ClamdResult, elapsed: float) -> ClamdResult:
    return ClamdResult(result.verdict, result.name, result.error, result.truncated, elapsed)


def _timed_out(deadline: Deadline) -> ClamdResult:
    return ClamdResult.failure(f"clamd did not answer within {deadline.seconds:g}s")


def _gone_text(gone: _Gone) -> str:
    reason = gone.args[0] if gone.args else "connection lost"
    return "clamd closed the connection" if reason == "reused" else str(reason)


def _os_text(err: BaseException) -> str:
    if isinstance(err, _Expired):
        return "timed out"
    if isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__
