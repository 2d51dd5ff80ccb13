"""Fixtures shared by the whole suite: where the corpus is, and whether natives are on."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmgfast import native

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus, the public test data (read-only). Its absence is an error, not a skip."""
    if not CORPUS.is_dir():
        raise RuntimeError(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def rust_module():
    """The compiled Rust module; tests that compare native and pure use it.

    Under PMGFAST_NO_EXTENSIONS=1 it is None and such tests compare the twin with itself'
    expectations only; otherwise a missing build is an error, never a silent skip.
    """
    module = native.rust()
    if module is None and not native.NO_EXTENSIONS:
        raise RuntimeError("pmgfast_native is not built: run 'make build'")
    return module


@pytest.fixture(scope="session")
def pg_server():
    """One real PostgreSQL server for the whole session (see tests/pg.py)."""
    from tests.pg import PgServer

    server = PgServer.start()
    yield server
    server.stop()


@pytest.fixture
def pg_dsn(pg_server):
    """A fresh, migrated database for one test; its DSN (Unix socket)."""
    name = pg_server.create_database()
    yield pg_server.socket_dsn(name)
    pg_server.drop_database(name)
