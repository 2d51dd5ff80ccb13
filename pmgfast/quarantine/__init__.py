"""The quarantine, store side: what the filter writes when a rule quarantines a mail.

The user-facing side (listing, release, delete, spam reports) is built by the quarantine
capability on top of the same spool layout and rows (pmg-behaviour.md section 5).
"""

from pmgfast.quarantine.store import DatabaseHandle, QuarantineStore, Stored

__all__ = ["DatabaseHandle", "QuarantineStore", "Stored"]
