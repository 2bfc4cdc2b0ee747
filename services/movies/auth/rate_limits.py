"""Fixed-window rate limits kept in the database, so every replica counts the same hits.

A hit is one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on both SQLite and
PostgreSQL: concurrent requests serialise on the counter row, so no burst can slip
past the limit between a read and a write.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from movies.auth.models import RateLimitCounter
from movies.platform.database import affected_rows, upsert

if TYPE_CHECKING:
    from sqlalchemy.sql import Executable

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` hits per ``window_seconds`` for one subject of one bucket."""

    bucket: str
    limit: int
    window_seconds: int


class RateLimitedError(Exception):
    """The subject used up its window; ``retry_after`` says when the next window opens."""

    def __init__(self, bucket: str, retry_after: int) -> None:
        """Keep the bucket for metrics and the wait for the ``Retry-After`` header."""
        super().__init__(f"rate limit {bucket} exceeded; retry after {retry_after}s")
        self.bucket = bucket
        self.retry_after = retry_after


def subject_key(secret: str, subject: str) -> str:
    """Keyed hash of an address or client address, so the counters hold neither."""
    return hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()


def window_start(now: datetime, window_seconds: int) -> datetime:
    """Return the start of the fixed window ``now`` falls in, aligned to the epoch."""
    elapsed = math.floor((now - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=elapsed - elapsed % window_seconds)


def retry_after_seconds(now: datetime, window_seconds: int) -> int:
    """Whole seconds until the current window closes, at least one."""
    closes = window_start(now, window_seconds) + timedelta(seconds=window_seconds)
    return max(1, math.ceil((closes - now).total_seconds()))


async def record_hit(
    executor: AsyncSession | AsyncConnection, rule: RateLimit, subject: str, now: datetime
) -> None:
    """Count one hit inside the caller's transaction, or raise :class:`RateLimitedError`.

    The caller's transaction rolls back on the error, so refused requests do not count.
    """
    parameters = {
        "bucket": rule.bucket,
        "subject": subject,
        "window_start": window_start(now, rule.window_seconds),
        "hits": 1,
    }
    if isinstance(executor, AsyncConnection):
        dialect_name = executor.dialect.name
    else:
        dialect_name = executor.get_bind().dialect.name
    statement = _hit_statement(dialect_name)
    hits = (await executor.execute(statement, parameters)).scalar_one()
    if hits > rule.limit:
        raise RateLimitedError(rule.bucket, retry_after_seconds(now, rule.window_seconds))


@functools.cache
def _hit_statement(dialect_name: str) -> Executable:
    """Build the upsert once per dialect.

    A reused statement skips construction and its cache key, which together cost more
    than SQLite takes to run it (docs/performance.md).
    """
    return (
        upsert(dialect_name, RateLimitCounter)
        .on_conflict_do_update(
            index_elements=["bucket", "subject", "window_start"],
            set_={"hits": RateLimitCounter.hits + 1},
        )
        .returning(RateLimitCounter.hits)
    )


async def prune_windows(session: AsyncSession, now: datetime, window: timedelta) -> int:
    """Delete counters of windows closed more than a window ago; return how many."""
    result = await session.execute(
        delete(RateLimitCounter).where(
            RateLimitCounter.window_start < now - 2 * window,
        ),
    )
    return affected_rows(result)
