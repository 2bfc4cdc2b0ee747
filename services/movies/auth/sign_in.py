"""Passwordless sign-in: issue a one-time code, then exchange it for an account.

Issuing writes the code's keyed hash and the mail request (an outbox row) in one
transaction behind the rate limits (``movies.auth.issuance``: one round trip on
PostgreSQL); the relay mails it. Verifying looks at the newest
sign-in code of the address only, counts wrong attempts, burns the code after the
limit, and consumes it on success, all under a lock so a code works exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Generic, TypeVar

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailcontract import Locale, OtpMail, Purpose
from movies.auth.issuance import CodeRecord, Hit, store_code
from movies.auth.models import OtpCode, User
from movies.auth.otp import code_matches, generate_code, hash_code
from movies.auth.rate_limits import RateLimit, record_hit, subject_key
from movies.outbox import trace_context
from movies.outbox.messages import MailRoute, outbox_row
from movies.platform import metrics
from movies.platform.database import Database, affected_rows, upsert

log = structlog.get_logger(__name__)
SESSION_PURPOSES = (Purpose.LOGIN.value, Purpose.SIGNUP.value)
T = TypeVar("T")


class Verification(StrEnum):
    """The outcome of presenting a code; also the ``result`` label of the metric."""

    OK = "ok"
    WRONG_CODE = "wrong_code"
    EXPIRED = "expired"
    BURNED = "burned"
    NO_CODE = "no_code"


class InvalidCodeError(Exception):
    """The code cannot start a session; ``result`` says why (for metrics and logs only)."""

    def __init__(self, result: Verification) -> None:
        """Keep the reason; the client is told only that the code did not work."""
        super().__init__(f"code rejected: {result}")
        self.result = result


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """The knobs of sign-in: secret, lifetime, attempts, the mails' route and rate limits."""

    hmac_secret: str
    ttl: timedelta
    max_attempts: int
    mail_route: MailRoute
    per_address: RateLimit
    per_client: RateLimit
    sessions_per_client: RateLimit

    def subject(self, kind: str, value: str) -> str:
        """Hash an address or a client into a rate-limit subject."""
        return subject_key(self.hmac_secret, f"{kind}:{value}")


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """Who just proved they read the mailbox."""

    id: str
    email: str


@dataclass(frozen=True, slots=True)
class CodeIssuer:
    """Issues codes; ``outbox_wakeup`` tells the relay a new row is committed."""

    database: Database
    policy: SignInPolicy
    outbox_wakeup: asyncio.Event

    async def issue(
        self, email: str, purpose: Purpose, locale: Locale, client: str, *, bound_to: str = ""
    ) -> str:
        """Store the code's hash and its mail request together; return the request id.

        ``bound_to`` (an account id) goes into the hash, so only that account can use
        the code: an e-mail change code proves the mailbox to the account that asked.
        """
        now = datetime.now(UTC)
        mail = OtpMail(
            id=str(uuid.uuid4()),
            email=email,
            code=generate_code(),
            purpose=purpose,
            locale=locale,
            issued_at=now,
            expires_at=now + self.policy.ttl,
        )
        record = CodeRecord(
            per_client=Hit(self.policy.per_client, self.policy.subject("ip", client)),
            per_address=Hit(self.policy.per_address, self.policy.subject("to", email)),
            code_row=self._code_row(mail, now, bound_to),
            outbox_row=outbox_row(mail, self.policy.mail_route, trace_context.capture(), now),
            now=now,
        )
        await store_code(self.database, record)
        self.outbox_wakeup.set()
        metrics.OTP_CODES_ISSUED.labels(purpose.value).inc()
        log.info("otp code issued", email=email, purpose=purpose.value, message_id=mail.id)
        return mail.id

    def _code_row(self, mail: OtpMail, now: datetime, bound_to: str) -> dict[str, object]:
        purpose = hashed_purpose(mail.purpose.value, bound_to)
        return {
            "id": mail.id,
            "email": mail.email,
            "purpose": mail.purpose.value,
            "code_hash": hash_code(self.policy.hmac_secret, mail.email, purpose, mail.code),
            "created_at": now,
            "expires_at": now + self.policy.ttl,
            "attempts": 0,
        }


@dataclass(frozen=True, slots=True)
class CodeUse(Generic[T]):
    """What a presented code must have been issued for, and what to do once it is right.

    ``purposes`` are the ones the code may carry; ``bound_to`` is the account its hash
    names ("" for none). ``check`` runs first in the transaction (it may raise, and then
    no attempt is counted); ``apply`` runs in the same transaction after the code proved
    right, and its result is what :meth:`CodeVerifier.redeem` returns.
    """

    purposes: tuple[str, ...]
    apply: Callable[[AsyncSession, datetime], Awaitable[T]]
    bound_to: str = ""
    check: Callable[[AsyncSession], Awaitable[None]] | None = None
    event: str = "otp code checked"


@dataclass(frozen=True, slots=True)
class CodeVerifier:
    """Exchanges a code for what it was issued for: a session, or an address change."""

    database: Database
    policy: SignInPolicy

    async def verify(self, email: str, code: str, client: str) -> SignedInUser:
        """Return the account of ``email`` (made on first use), or raise :class:`InvalidCodeError`.

        A sign-in is one use of :meth:`redeem`: codes issued to log in or sign up, unbound.
        """
        use = CodeUse(SESSION_PURPOSES, partial(_upsert_user, email=email))
        return await self.redeem(email, code, client, use)

    async def redeem(self, email: str, code: str, client: str, use: CodeUse[T]) -> T:
        """Judge the newest code of ``email`` for ``use``; on success return ``use.apply``'s result.

        The wrong-attempt count is committed before :class:`InvalidCodeError` is raised,
        so the limit holds even though every failed attempt ends in an error response.
        """
        now = datetime.now(UTC)
        applied: tuple[T] | None = None
        async with self.database.write_session() as session:
            rule = self.policy.sessions_per_client
            await record_hit(session, rule, self.policy.subject("ip", client), now)
            if use.check is not None:
                await use.check(session)
            row = await newest_code(session, email, use.purposes, lock=self.database.is_postgresql)
            result = self.judge(row, email, code, now, bound_to=use.bound_to)
            if result is Verification.OK:
                applied = (await use.apply(session, now),)
        metrics.OTP_VERIFICATIONS.labels(result.value).inc()
        log.info(use.event, email=email, result=result.value)
        if applied is None:
            raise InvalidCodeError(result)
        return applied[0]

    def judge(
        self, row: OtpCode | None, email: str, code: str, now: datetime, bound_to: str = ""
    ) -> Verification:
        """Decide on a presented code, recording on the row a wrong attempt or the consumption.

        Kept apart from the database work so the rules can be read and tested on their own.
        """
        if row is None or row.consumed_at is not None:
            return Verification.NO_CODE
        if row.expires_at <= now:
            return Verification.EXPIRED
        if row.attempts >= self.policy.max_attempts:
            return Verification.BURNED
        purpose = hashed_purpose(row.purpose, bound_to)
        if code_matches(self.policy.hmac_secret, email, purpose, code, row.code_hash):
            row.consumed_at = now
            return Verification.OK
        row.attempts += 1
        return Verification.WRONG_CODE


async def newest_code(
    session: AsyncSession, email: str, purposes: tuple[str, ...], *, lock: bool
) -> OtpCode | None:
    """Return the latest code issued to ``email`` for one of ``purposes``.

    With ``lock`` (PostgreSQL), the row stays locked until the transaction ends, so two
    presentations of one code are judged one after the other.
    """
    statement = (
        select(OtpCode)
        .where(OtpCode.email == email, OtpCode.purpose.in_(purposes))
        .order_by(OtpCode.created_at.desc(), OtpCode.id.desc())
        .limit(1)
    )
    if lock:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


def hashed_purpose(purpose: str, bound_to: str) -> str:
    """Return the purpose as the code's hash binds it: with the account id, if bound."""
    return f"{purpose}:{bound_to}" if bound_to else purpose


async def _upsert_user(session: AsyncSession, now: datetime, *, email: str) -> SignedInUser:
    """Create the account on first sign-in, else stamp the sign-in; safe under races."""
    statement = (
        upsert(session.get_bind().dialect.name, User)
        .values(id=str(uuid.uuid4()), email=email, created_at=now, last_sign_in_at=now)
        .on_conflict_do_update(index_elements=["email"], set_={"last_sign_in_at": now})
        .returning(User.id)
    )
    user_id = (await session.execute(statement)).scalar_one()
    return SignedInUser(id=user_id, email=email)


async def prune_codes(session: AsyncSession, now: datetime, retention: timedelta) -> int:
    """Delete codes that expired longer ago than ``retention``; return how many."""
    result = await session.execute(delete(OtpCode).where(OtpCode.expires_at < now - retention))
    return affected_rows(result)
