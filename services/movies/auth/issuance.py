"""Storing an issued code: both rate-limit hits, the code's keyed hash and its mail request.

Everything is written in one transaction behind the limits, and a refused request
counts nowhere. :func:`store_code` is the one interface; its two implementations:

- PostgreSQL: one statement, ``SELECT issue_code(…)``, on an autocommit connection: one
  round trip. The function (migration 0002) holds the counter rows' locks for that
  statement only, and notifies the relays of every replica on commit.
- SQLite (the embedded default): the same writes as statements in one ``BEGIN
  IMMEDIATE`` transaction, which is all SQLite has; the process's own relay is woken
  by the caller, as on PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, text

from movies.auth.models import OtpCode
from movies.auth.rate_limits import (
    RateLimit,
    RateLimitedError,
    record_hit,
    retry_after_seconds,
    window_start,
)
from movies.outbox.messages import add_outbox_row

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from movies.platform.database import Database

_INSERT_CODE = insert(OtpCode)
_ISSUE_CODE = text(
    "SELECT issue_code("
    ":client_bucket, :client_subject, :client_window, :client_limit, "
    ":address_bucket, :address_subject, :address_window, :address_limit, "
    ":code_id, :code_email, :code_purpose, :code_hash, :issued_at, :expires_at, "
    ":mail_topic, :mail_key, :mail_payload, :mail_headers, :mail_trace)"
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One count against a rule, for a subject (a hashed client or address)."""

    rule: RateLimit
    subject: str


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """What issuing one code writes: hits in this order, the code's row, the outbox row."""

    per_client: Hit
    per_address: Hit
    code_row: dict[str, object]
    outbox_row: dict[str, object]
    now: datetime


async def store_code(database: Database, record: CodeRecord) -> None:
    """Write ``record`` in one transaction, or raise :class:`RateLimitedError` writing nothing."""
    if database.autocommit is not None:
        await _in_one_statement(database.autocommit, record)
    else:
        await _in_statements(database, record)


async def _in_one_statement(engine: AsyncEngine, record: CodeRecord) -> None:
    async with engine.connect() as connection:
        refused = (await connection.execute(_ISSUE_CODE, _parameters(record))).scalar_one()
    if refused is not None:
        rule = next(hit.rule for hit in _hits(record) if hit.rule.bucket == refused)
        raise RateLimitedError(rule.bucket, retry_after_seconds(record.now, rule.window_seconds))


async def _in_statements(database: Database, record: CodeRecord) -> None:
    async with database.write_connection() as connection:
        for hit in _hits(record):
            await record_hit(connection, hit.rule, hit.subject, record.now)
        await connection.execute(_INSERT_CODE, record.code_row)
        await add_outbox_row(connection, record.outbox_row)


def _hits(record: CodeRecord) -> tuple[Hit, Hit]:
    return record.per_client, record.per_address


def _parameters(record: CodeRecord) -> dict[str, object]:
    code, mail = record.code_row, record.outbox_row
    return {
        **_hit_parameters("client", record.per_client, record.now),
        **_hit_parameters("address", record.per_address, record.now),
        "code_id": code["id"],
        "code_email": code["email"],
        "code_purpose": code["purpose"],
        "code_hash": code["code_hash"],
        "issued_at": record.now,
        "expires_at": code["expires_at"],
        "mail_topic": mail["topic"],
        "mail_key": mail["message_key"],
        "mail_payload": mail["payload"],
        "mail_headers": json.dumps(mail["headers"]),
        "mail_trace": json.dumps(mail["trace_context"]),
    }


def _hit_parameters(prefix: str, hit: Hit, now: datetime) -> dict[str, object]:
    return {
        f"{prefix}_bucket": hit.rule.bucket,
        f"{prefix}_subject": hit.subject,
        f"{prefix}_window": window_start(now, hit.rule.window_seconds),
        f"{prefix}_limit": hit.rule.limit,
    }
