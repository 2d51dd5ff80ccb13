"""Fixtures of the archive tests: both listers, so every expectation runs in both modes."""

from __future__ import annotations

import pytest

from pmgfast import archive


@pytest.fixture(params=["pure", "native"])
def lister(request, rust_module):
    """``list_archive`` of one mode (in pure mode, "native" is the twin as well)."""
    if request.param == "pure" or rust_module is None:
        return archive.pure_list_archive
    return archive.list_archive
