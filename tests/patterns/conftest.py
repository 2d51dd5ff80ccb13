"""Fixtures of the pattern-set tests: the native module or a clear statement of its absence."""

from __future__ import annotations

import pytest

from pmgfast import patterns


@pytest.fixture
def native_set(rust_module):
    """Build a native set, or (in pure mode) the twin, so every test runs in both modes."""

    def build(pats):
        if rust_module is None:
            return patterns.PurePatternSet(pats)
        return patterns.NativePatternSet(pats, rust_module)

    return build
