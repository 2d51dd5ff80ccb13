"""Scanners: the interface virus and spam scanners plug into, and the custom check script.

:mod:`pmgfast.scan.base` defines the interface and the runner with per-scanner time budgets;
:mod:`pmgfast.scan.custom` is its first implementation, PMG's custom check interface v1. The
ClamAV and spam scanners (their own issues) implement the same interface.
"""

from pmgfast.scan.base import (
    ScanItem,
    Scanner,
    ScannerFailure,
    ScanReport,
    SpamHit,
    Verdict,
    run_scanners,
)
from pmgfast.scan.custom import CustomCheck

__all__ = [
    "CustomCheck",
    "ScanItem",
    "ScanReport",
    "Scanner",
    "ScannerFailure",
    "SpamHit",
    "Verdict",
    "run_scanners",
]
