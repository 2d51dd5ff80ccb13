"""clamd's wire protocol, without sockets (sans-IO): commands, INSTREAM framing, reply splitting.

Commands use the ``z`` form (``zINSTREAM\\0``): NUL-terminated, and replies come back
NUL-terminated too. ``INSTREAM`` is followed by chunks, each a 4-byte big-endian length and the
bytes, and ends with a zero length. clamd refuses a stream longer than its ``StreamMaxLength``
("INSTREAM size limit exceeded") and closes the connection, so :func:`instream_chunks` never
sends more than the limit: it stops at the limit and reports that the stream was truncated.

Inside ``IDSESSION`` several commands share one connection and each reply is prefixed by the
request number (``"2: stream: OK"``); ``END`` closes the session.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

IDSESSION = b"zIDSESSION\0"
END = b"zEND\0"
INSTREAM = b"zINSTREAM\0"
PING = b"zPING\0"
VERSION = b"zVERSION\0"
STATS = b"zSTATS\0"
RELOAD = b"zRELOAD\0"

END_OF_STREAM = struct.pack(">I", 0)
DEFAULT_CHUNK = 64 * 1024
# clamd's own default StreamMaxLength (25 MiB) when clamd.conf does not set it.
DEFAULT_STREAM_MAX = 25 * 1024 * 1024

Source = bytes | bytearray | memoryview | BinaryIO


def _pieces(data: Source, chunk: int) -> Iterator[memoryview | bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), chunk):
            yield view[start : start + chunk]
        return
    while True:
        block = data.read(chunk)
        if not block:
            return
        yield block


class Stream:
    """The frames of one INSTREAM body, limited to ``limit`` bytes of payload.

    Iterate to get what to send (length prefixes and payload pieces, then the end marker);
    afterwards :attr:`sent` is the payload size sent and :attr:`truncated` says whether the
    source had more than ``limit`` bytes.
    """

    def __init__(self, data: Source, limit: int, chunk: int = DEFAULT_CHUNK) -> None:
        if chunk <= 0:
            raise ValueError("chunk size must be positive")
        self._data = data
        self.limit = max(0, limit)
        self.chunk = chunk
        self.sent = 0
        self.truncated = False

    def __iter__(self) -> Iterator[bytes | memoryview]:
        room = self.limit
        for piece in _pieces(self._data, self.chunk):
            if room <= 0:
                self.truncated = True
                break
            if len(piece) > room:
                piece = piece[:room]
                self.truncated = True
            room -= len(piece)
            self.sent += len(piece)
            yield struct.pack(">I", len(piece))
            yield piece
            if self.truncated:
                break
        yield END_OF_STREAM


def instream_chunks(data: Source, limit: int, chunk: int = DEFAULT_CHUNK) -> Stream:
    """The INSTREAM frames for ``data`` (bytes or a binary file), at most ``limit`` bytes."""
    return Stream(data, limit, chunk)


def encode_frames(pieces: Iterable[bytes | memoryview]) -> bytes:
    """Join frames into one buffer (tests and small messages)."""
    return b"".join(bytes(p) for p in pieces)


class ReplyReader:
    """Splits the byte stream from clamd into NUL-terminated replies."""

    def __init__(self, max_reply: int = 64 * 1024) -> None:
        self._buffer = bytearray()
        self.max_reply = max_reply

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the replies completed by them (without the NUL)."""
        self._buffer += data
        replies = []
        while True:
            end = self._buffer.find(b"\0")
            if end < 0:
                break
            replies.append(bytes(self._buffer[:end]))
            del self._buffer[: end + 1]
        if len(self._buffer) > self.max_reply:
            raise ValueError(f"clamd reply longer than {self.max_reply} bytes without a NUL")
        return replies

    @property
    def pending(self) -> bytes:
        """Bytes received after the last complete reply."""
        return bytes(self._buffer)
