"""Pruning rows that have served their purpose, so the tables stay small.

It spans domains (the outbox's sent rows, sign-in's codes and rate-limit windows), so it
lives in the composition root; the outbox relay runs it through its ``Pruner`` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from movies.auth.rate_limits import prune_windows
from movies.auth.sign_in import prune_codes
from movies.outbox.messages import prune_sent
from movies.platform.database import Database


@dataclass(frozen=True, slots=True)
class Housekeeping:
    """What to keep: sent outbox rows and dead codes for ``retention``, counters for a window."""

    database: Database
    retention: timedelta
    rate_limit_window: timedelta

    async def prune(self, now: datetime) -> int:
        """Delete sent outbox rows, long-expired codes and closed rate-limit windows."""
        async with self.database.write_session() as session:
            pruned = await prune_sent(session, now, self.retention)
            pruned += await prune_codes(session, now, self.retention)
            pruned += await prune_windows(session, now, self.rate_limit_window)
        return pruned
