"""Versioned schema migrations: ``migrations/NNNN_name.sql`` applied in order, once each.

Each migration runs in its own transaction together with its row in ``pmgfast_schema``, under
an advisory lock, so two processes upgrading at once apply every migration exactly once and a
failed migration leaves the schema at the previous version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
_LOCK_ID = 0x706D6766  # "pmgf"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class SchemaStatus:
    current: int
    latest: int
    pending: tuple[Migration, ...]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def migrations() -> tuple[Migration, ...]:
    """Every shipped migration, in version order; versions must run 1, 2, 3... without gaps."""
    found = []
    for entry in resources.files("pmgfast.db").joinpath("migrations").iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"migration {expected:04d} is missing (found {migration.version:04d})"
            )
    return tuple(found)


def _ensure_table(conn: psycopg.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS pmgfast_schema ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied timestamptz NOT NULL DEFAULT now())"
    )


def current_version(conn: psycopg.Connection) -> int:
    exists = conn.execute("SELECT to_regclass('pmgfast_schema') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM pmgfast_schema").fetchone()
    return int(row[0]) if row else 0


def status(conn: psycopg.Connection) -> SchemaStatus:
    known = migrations()
    current = current_version(conn)
    return SchemaStatus(
        current, known[-1].version if known else 0, tuple(m for m in known if m.version > current)
    )


def upgrade(conn: psycopg.Connection) -> list[Migration]:
    """Apply every pending migration; return those applied by this call."""
    applied = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        _ensure_table(conn)
    for migration in migrations():
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            if current_version(conn) >= migration.version:
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO pmgfast_schema (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration)
    return applied


def drop_all(conn: psycopg.Connection) -> None:
    """Delete every pmgfast table (``db reset``): the public schema is recreated empty."""
    with conn.transaction():
        owner = conn.execute("SELECT current_user").fetchone()
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        if owner:
            conn.execute(f'GRANT ALL ON SCHEMA public TO "{owner[0]}"')
