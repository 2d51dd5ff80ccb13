"""The tracking center's one exception (raised by the Rust core and the pure twin alike)."""

from __future__ import annotations


class TrackingError(ValueError):
    """A query argument, a log file or the index could not be used; the text says which."""
