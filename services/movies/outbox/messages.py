"""The transactional outbox: rows written with their cause, read and retired by the relay.

A request never talks to Kafka. It adds an outbox row in the same transaction as the
code it issued, so either both exist or neither does, and the relay publishes later.
The row's payload is the sealed v2 message: the code is sealed here, before it touches
the database, so neither the table, its WAL nor a backup ever holds it in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select, update

from mailcontract import (
    CONTENT_TYPE,
    HEADER_CONTENT_TYPE,
    HEADER_MESSAGE_TYPE,
    MESSAGE_TYPE_OTP_V2,
    Keyring,
    OtpMail,
    encode_otp_mail,
)
from movies.outbox.models import OutboxMessage
from movies.platform.database import affected_rows

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Built once: Core inserts on the request path, where the ORM's unit of work cost more
# than the database did (docs/performance.md).
_INSERT_OUTBOX = insert(OutboxMessage)


@dataclass(frozen=True, slots=True)
class MailRoute:
    """Where mail requests go, and the keyring their codes are sealed with on the way."""

    topic: str
    keyring: Keyring


@dataclass(frozen=True, slots=True)
class PendingSummary:
    """How much is waiting, for the relay's gauges."""

    count: int
    oldest_age_seconds: float


async def enqueue_mail(
    connection: AsyncConnection,
    mail: OtpMail,
    route: MailRoute,
    trace_carrier: dict[str, str],
    now: datetime,
) -> None:
    """Add the mail request, code sealed, to the caller's transaction, keyed by the recipient."""
    await add_outbox_row(connection, outbox_row(mail, route, trace_carrier, now))


async def add_outbox_row(connection: AsyncConnection, row: dict[str, object]) -> None:
    """Insert an :func:`outbox_row` in the caller's transaction."""
    await connection.execute(_INSERT_OUTBOX, row)


def outbox_row(
    mail: OtpMail, route: MailRoute, trace_carrier: dict[str, str], now: datetime
) -> dict[str, object]:
    """Return the outbox row of a mail request: its code sealed, keyed by the recipient."""
    return {
        "id": mail.id,
        "topic": route.topic,
        "message_key": mail.email.encode(),
        "payload": encode_otp_mail(mail, route.keyring),
        "headers": {HEADER_CONTENT_TYPE: CONTENT_TYPE, HEADER_MESSAGE_TYPE: MESSAGE_TYPE_OTP_V2},
        "trace_context": trace_carrier,
        "created_at": now,
        "sent_at": None,
        "attempts": 0,
    }


async def claim_batch(session: AsyncSession, limit: int, *, lock: bool) -> list[OutboxMessage]:
    """Read the oldest unsent rows; with ``lock``, rows other relays hold are skipped."""
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
    )
    if lock:
        statement = statement.with_for_update(skip_locked=True)
    return list((await session.scalars(statement)).all())


async def mark_sent(session: AsyncSession, ids: list[str], now: datetime) -> None:
    """Retire published rows and drop their payload, whose work is done."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(sent_at=now, payload=None, attempts=OutboxMessage.attempts + 1),
        )


async def count_failed_attempt(session: AsyncSession, ids: list[str]) -> None:
    """Remember that these rows could not be published yet (visible to operators)."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(attempts=OutboxMessage.attempts + 1),
        )


async def pending_summary(session: AsyncSession, now: datetime) -> PendingSummary:
    """Count the unsent rows and the age of the oldest one."""
    row = (
        await session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.sent_at.is_(None),
            ),
        )
    ).one()
    count, oldest = int(row[0]), row[1]
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return PendingSummary(count=count, oldest_age_seconds=age)


async def prune_sent(session: AsyncSession, now: datetime, retention: timedelta) -> int:
    """Delete rows published longer ago than the retention period; return how many."""
    result = await session.execute(
        delete(OutboxMessage).where(OutboxMessage.sent_at < now - retention),
    )
    return affected_rows(result)
