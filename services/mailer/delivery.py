"""What happens to one record: decode, render, send with retries, or dead-letter.

Returns only when the record is finished (sent, skipped as expired, or dead-lettered),
so the caller may commit its offset. Transient failures are retried with exponential
backoff and jitter until the code expires or the mailer is asked to stop.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import structlog
from aiokafka.structs import ConsumerRecord

from mailcontract import OtpMail, PoisonMessageError, RecordPosition, decode_otp_mail
from mailer.dead_letters import DeadLetterPublisher
from mailer.mail_templates import MailRenderer
from mailer.smtp_transport import PermanentSendError, SmtpTransport, TransientSendError

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    """How a record ended; the values are the ``result`` label of ``mailer_emails_total``."""

    SENT = "sent"
    EXPIRED = "expired"
    INVALID = "invalid"
    DEAD_LETTERED = "dead_lettered"
    ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped per wait."""

    first_delay_seconds: float = 0.2
    max_delay_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay_seconds, self.first_delay_seconds * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 -- jitter, not a secret


class Delivery:
    """Delivers records one at a time with the shared renderer, transport and DLQ."""

    def __init__(
        self,
        renderer: MailRenderer,
        transport: SmtpTransport,
        dead_letters: DeadLetterPublisher,
        retry: RetryPolicy,
        stopping: asyncio.Event,
    ) -> None:
        """Wire the collaborators; ``stopping`` cuts retry waits short at shutdown."""
        self._renderer = renderer
        self._transport = transport
        self._dead_letters = dead_letters
        self._retry = retry
        self._stopping = stopping

    async def deliver(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        """Finish one record; ``ABANDONED`` means shutdown came first, so do not commit it."""
        position = RecordPosition(record.topic, record.partition, record.offset)
        try:
            mail = decode_otp_mail(record.value, position)
        except PoisonMessageError as exc:
            log.warning("poison record dead-lettered", reason=exc.reason, offset=record.offset)
            await self._dead_letters.publish(record, exc.reason, exc.detail)
            return Outcome.INVALID
        if _expired(mail):
            log.info("expired code skipped", message_id=mail.id)
            return Outcome.EXPIRED
        return await self._send_with_retries(record, mail)

    async def _send_with_retries(
        self,
        record: ConsumerRecord[bytes, bytes],
        mail: OtpMail,
    ) -> Outcome:
        message = self._renderer.render(mail)
        attempt = 0
        while not self._stopping.is_set():
            attempt += 1
            try:
                reply = await self._transport.send(mail.email, message)
            except PermanentSendError as exc:
                log.warning("mail refused; dead-lettered", message_id=mail.id, smtp_code=exc.code)
                await self._dead_letters.publish(record, "smtp_permanent", str(exc))
                return Outcome.DEAD_LETTERED
            except TransientSendError as exc:
                if _expired(mail):
                    return Outcome.EXPIRED
                wait = self._retry.delay(attempt)
                log.warning(
                    "send failed; will retry",
                    message_id=mail.id,
                    attempt=attempt,
                    smtp_code=exc.code,
                    error=str(exc),
                    retry_in=round(wait, 2),
                )
                await _sleep_unless(self._stopping, wait)
            else:
                log.info(
                    "mail sent",
                    message_id=mail.id,
                    email=mail.email,
                    smtp_code=reply.code,
                    legacy=mail.legacy,
                    attempts=attempt,
                )
                return Outcome.SENT
        return Outcome.ABANDONED


def _expired(mail: OtpMail) -> bool:
    return mail.expires_at is not None and mail.expires_at <= datetime.now(UTC)


async def _sleep_unless(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=seconds)
    except TimeoutError:
        return
