"""Issuing one-time codes: store the keyed hash, then ask the mailer to send the code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mailcontract import Locale, OtpMail, Purpose
from movies.code_publisher import CodePublisher
from movies.models import OtpCode
from movies.otp import generate_code, hash_code

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CodeIssuer:
    """Everything issuing a code touches: the database, the publisher and the secret."""

    sessions: async_sessionmaker[AsyncSession]
    publisher: CodePublisher
    hmac_secret: str
    ttl: timedelta

    async def issue(self, email: str, purpose: Purpose, locale: Locale) -> str:
        """Store a new code's hash and publish the mail request; return the request id."""
        code = generate_code()
        now = datetime.now(UTC)
        row = OtpCode(
            id=str(uuid.uuid4()),
            email=email,
            purpose=purpose.value,
            code_hash=hash_code(self.hmac_secret, email, purpose.value, code),
            created_at=now,
            expires_at=now + self.ttl,
            attempts=0,
        )
        async with self.sessions.begin() as session:
            session.add(row)
        mail = OtpMail(
            id=row.id,
            email=email,
            code=code,
            purpose=purpose,
            locale=locale,
            issued_at=now,
            expires_at=row.expires_at,
        )
        await self.publisher.publish(mail)
        log.info("otp code issued", email=email, purpose=purpose.value, message_id=row.id)
        return row.id
