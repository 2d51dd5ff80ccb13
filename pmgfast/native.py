"""The one switch between compiled hot paths and their pure-Python twins.

Every hot path has a pure-Python twin (the reference in differential tests and the baseline in
benchmarks). ``PMGFAST_NO_EXTENSIONS=1`` makes pmgfast run on the twins alone; otherwise the
compiled modules are used when they import. Callers ask this module, never the environment.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

NO_EXTENSIONS: bool = os.environ.get("PMGFAST_NO_EXTENSIONS", "") not in ("", "0")


def load(module: str) -> ModuleType | None:
    """Import a compiled module by name, or return None when extensions are off or absent.

    A compiled module that is present but fails to import for another reason than being
    missing raises: a broken build must be loud, not silently slow.
    """
    if NO_EXTENSIONS:
        return None
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is not None and module.startswith(err.name):
            return None
        raise


def rust() -> ModuleType | None:
    """The Rust module ``pmgfast_native._native``, or None (pure mode or not built)."""
    return load("pmgfast_native._native")
