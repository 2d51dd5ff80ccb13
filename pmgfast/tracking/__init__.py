"""The tracking center: what happened to a mail, from the mail logs.

Searches Postfix, PMG (pmg-smtp-filter) and pmgfast (milter) syslog lines, joins the lines of
each mail (sessions, queue entries, filter runs, re-injected copies) and reports one status per
recipient in the admin guide's vocabulary. The work runs in the Rust core (``tracking/``, through
``pmgfast_native``) with a pure-Python twin (:mod:`pmgfast.tracking.twin`). An incremental
on-disk index (Rust only) answers week-long searches without reading the logs.

- :func:`search` with a :class:`Query`: mails as :class:`Mail` records.
- :func:`update_index`, :func:`index_info`: keep and inspect the index.
- ``pmgfast track`` (``pmgfast.cli.track``) and ``pmg-log-tracker`` (:mod:`pmgfast.tracking.pmglt`)
  are the command lines; the log line grammar is ``tracking/FORMAT.md``.
"""

from __future__ import annotations

from pmgfast.tracking.api import IndexInfo, IndexUpdate, index_info, search, update_index
from pmgfast.tracking.errors import TrackingError
from pmgfast.tracking.model import STATUSES, Mail, Recipient, Result
from pmgfast.tracking.query import DEFAULT_MARGIN, Query

__all__ = [
    "DEFAULT_MARGIN",
    "STATUSES",
    "IndexInfo",
    "IndexUpdate",
    "Mail",
    "Query",
    "Recipient",
    "Result",
    "TrackingError",
    "index_info",
    "search",
    "update_index",
]
