"""Statistics rows (PMG's CStatistic and CReceivers), written in batches off the message path.

:class:`~pmgfast.stats.writer.StatsWriter` takes one :class:`~pmgfast.stats.writer.StatRow`
per message (never blocking, never touching the database in the caller's thread) and writes
them with ``COPY`` from a background thread, together with the rule hit counters.
"""

from pmgfast.stats.writer import StatRecipient, StatRow, StatsWriter

__all__ = ["StatRecipient", "StatRow", "StatsWriter"]
