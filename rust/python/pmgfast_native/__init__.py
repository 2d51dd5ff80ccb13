"""Compiled hot paths of pmgfast (Rust, built by maturin).

pmgfast never imports this package directly: it goes through :mod:`pmgfast.native`, which
honours ``PMGFAST_NO_EXTENSIONS=1`` and falls back to the pure-Python twins.
"""

from pmgfast_native._native import __version__

__all__ = ["__version__"]
