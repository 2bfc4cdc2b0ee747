"""Pruning rows that have served their purpose, so the tables stay small."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from movies.auth.models import OtpCode, RateLimitCounter
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
            codes = await session.execute(
                delete(OtpCode).where(OtpCode.expires_at < now - self.retention),
            )
            windows = await session.execute(
                delete(RateLimitCounter).where(
                    RateLimitCounter.window_start < now - 2 * self.rate_limit_window,
                ),
            )
        return pruned + _rowcount(codes) + _rowcount(windows)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
