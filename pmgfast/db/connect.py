"""Which PostgreSQL to use, and connections to it with plain-words errors.

The configured ``pmgfast.dsn`` names an external server; without it, the embedded server under
the state directory is used (:mod:`pmgfast.db.embedded`). Connection failures raise
:class:`DatabaseUnavailable` with the server's address and the reason, never a password.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from pmgfast.config import Settings
from pmgfast.db.embedded import EmbeddedPostgres
from pmgfast.paths import Paths


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message names where and why."""


@dataclass(frozen=True)
class Database:
    """The database pmgfast uses: a DSN, and the embedded server behind it when there is one."""

    dsn: str
    embedded: EmbeddedPostgres | None

    @classmethod
    def choose(cls, settings: Settings, paths: Paths) -> Database:
        dsn = settings.pmg.get("pmgfast", "dsn")
        if dsn:
            return cls(dsn=str(dsn), embedded=None)
        server = EmbeddedPostgres(paths.pg_dir)
        return cls(dsn=server.dsn, embedded=server)

    def describe(self) -> str:
        """The address without secrets, for messages and logs."""
        return redact(self.dsn) + (" (embedded)" if self.embedded else "")

    def connect(self, autocommit: bool = False) -> psycopg.Connection:
        return connect(self.dsn, autocommit=autocommit)


def redact(dsn: str) -> str:
    """The DSN as key=value text with any password removed."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unreadable DSN>"
    params.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in params.items() if v is not None)


def connect(dsn: str, connect_timeout: int = 5, autocommit: bool = False) -> psycopg.Connection:
    """Connect, turning every connection failure into DatabaseUnavailable."""
    try:
        return psycopg.connect(dsn, connect_timeout=connect_timeout, autocommit=autocommit)
    except psycopg.OperationalError as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL ({redact(dsn)}): {reason}"
        ) from None
    except psycopg.ProgrammingError as err:
        raise DatabaseUnavailable(f"invalid database DSN: {err}") from None
