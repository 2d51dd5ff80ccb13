"""Answers a real clamd cannot be made to give: a broken daemon behind the socket.

A tiny server thread on a Unix socket reads the request and answers with whatever the test
says (garbage, a wrong session number, nothing). The client must turn each into an ERROR
result (a 451 downstream), never raise and never call the message clean.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmgfast.clamav import ClamdAddress, ClamdClient, Verdict


class BrokenClamd:
    def __init__(self, path: Path, answer: bytes, close_early: bool = False) -> None:
        self.path = path
        self.answer = answer
        self.close_early = close_early
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    if not self.close_early:
                        data = b""
                        while not data.endswith(b"\0\0\0\0"):  # the end-of-stream marker
                            chunk = conn.recv(65536)
                            if not chunk:
                                break
                            data += chunk
                    conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[object]:
    servers: list[BrokenClamd] = []

    def start(answer: bytes, close_early: bool = False) -> ClamdClient:
        server = BrokenClamd(tmp_path / f"s{len(servers)}.sock", answer, close_early)
        servers.append(server)
        return ClamdClient(ClamdAddress.unix(str(server.path)), timeout=3)

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"",  # closes without a word
        b"stream: OK",  # no NUL terminator, then EOF
        b"garbage\0",
        b"\xff\xfe\x00",
        b"stream: FOUND\0",  # a detection without a name
        b"x" * 100_000,  # endless reply without NUL
        b"stream: Some Name With Spaces FOUND\0",
    ],
)
def test_garbage_is_an_error(broken, answer: bytes):
    result = broken(answer).scan(b"Subject: x\r\n\r\nbody\r\n" * 100)
    assert result.verdict is Verdict.ERROR, result


def test_wrong_session_number_is_an_error(broken):
    client = broken(b"7: stream: OK\0")
    client.pooled = True
    result = client.scan(b"Subject: x\r\n\r\nbody\r\n")
    assert result.verdict is Verdict.ERROR and "out of turn" in (result.error or "")


def test_daemon_that_hangs_up_before_reading(broken):
    result = broken(b"", close_early=True).scan(b"x" * 3_000_000)
    assert result.verdict is Verdict.ERROR


def test_nothing_listening(tmp_path: Path):
    client = ClamdClient(ClamdAddress.unix(str(tmp_path / "none.sock")))
    result = client.scan(b"x")
    assert result.verdict is Verdict.ERROR
    assert not client.ping()
