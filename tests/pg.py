"""A real PostgreSQL for the test suite: one embedded server per session, a database per test.

The server is pmgfast's own :class:`~pmgfast.db.embedded.EmbeddedPostgres`, started in a fresh
directory under /tmp (mode 0755, so the unprivileged ``pmgfast`` user it runs as when the tests
run as root can reach it), listening on its Unix socket and on 127.0.0.1 with password
authentication, so tests can use it both as "embedded" and as an external server by DSN.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from pmgfast.db import migrate
from pmgfast.db.embedded import DB_USER, EmbeddedPostgres

TEST_PASSWORD = "test-secret-pw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """The session's PostgreSQL server."""

    root: Path
    server: EmbeddedPostgres
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls) -> PgServer:
        root = Path(tempfile.mkdtemp(prefix="pmgfast-test-"))
        os.chmod(root, 0o755)
        server = EmbeddedPostgres(
            root / "pg", port=free_port(), tcp_address="127.0.0.1", auth_host="scram-sha-256"
        )
        server.start()
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute(f"ALTER USER {DB_USER} PASSWORD '{TEST_PASSWORD}'")
        return cls(root, server)

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def socket_dsn(self, dbname: str) -> str:
        return (
            f"host={self.server.socket_dir} port={self.server.port} dbname={dbname} user={DB_USER}"
        )

    def tcp_dsn(self, dbname: str) -> str:
        return (
            f"postgresql://{DB_USER}:{TEST_PASSWORD}@127.0.0.1:{self.server.port}/{dbname}"
            "?connect_timeout=5"
        )

    def create_database(self, migrated: bool = True) -> str:
        """A new database (schema migrated unless asked otherwise); returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.socket_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        if migrated:
            with psycopg.connect(self.socket_dsn(name), autocommit=True) as conn:
                migrate.upgrade(conn)
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.socket_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
