"""ClamAV test fixtures: private clamd servers (tests/clamd.py) for the session or one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clamd import ClamdServer


@pytest.fixture(scope="session")
def clamd() -> Iterator[ClamdServer]:
    """A clamd with pmgfast's default ClamAV settings (rendered from the built-in template)."""
    server = ClamdServer.start_new()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def clamd_encrypted() -> Iterator[ClamdServer]:
    """A clamd rendered with ``clamav.archiveblockencrypted 1``."""
    server = ClamdServer.start_new(("clamav archiveblockencrypted 1",))
    yield server
    server.destroy()


@pytest.fixture
def own_clamd() -> Iterator[ClamdServer]:
    """A clamd for one test alone (outage tests stop and start it)."""
    server = ClamdServer.start_new()
    yield server
    server.destroy()
