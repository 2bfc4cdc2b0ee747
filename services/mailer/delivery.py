"""What happens to one record: decode, render, send with retries, or dead-letter.

Each record runs in a ``<topic> process`` CONSUMER span whose parent is the trace
context the producer put in the record's headers, so one trace reaches from the HTTP
request that issued the code to the SMTP reply. ``deliver`` returns only when the
record is finished (sent, skipped, or dead-lettered), so its offset may be committed;
``ABANDONED`` means shutdown came first and the record must be delivered again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

import structlog
from opentelemetry import trace

# The messaging conventions are still incubating; this is where the semconv package
# publishes them.
from opentelemetry.semconv._incubating.attributes import messaging_attributes as messaging
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from mailcontract import Keyring, OtpMail, PoisonMessageError, RecordPosition, decode_otp_mail
from mailer import metrics
from mailer.dead_letters import DeadLetterPublisher
from mailer.mail_templates import MailRenderer
from mailer.sent_messages import SentMessages
from mailer.smtp_transport import (
    PermanentSendError,
    RelayConnectionError,
    RelayNotTriedError,
    SendError,
    SmtpPool,
)
from pacing import Backoff
from pacing.deadlines import wait_event
from telemetry import recipient_domain
from telemetry.exemplars import current_trace_exemplar, span_exemplar
from telemetry.kafka_headers import context_from_headers
from telemetry.redaction import mask_embedded_addresses

if TYPE_CHECKING:
    import asyncio

    from aiokafka.structs import ConsumerRecord

    from mailer.relay_health import Turn

log = structlog.get_logger(__name__)
SMTP_REPLY_CODE = "smtp.reply.code"
_MS: Final = 1000.0


class Outcome(StrEnum):
    """How a record ended."""

    SENT = "sent"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    INVALID = "invalid"
    DEAD_LETTERED = "dead_lettered"
    ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a mail the relay did not take is retried: the waits, and how many tries."""

    backoff: Backoff
    max_attempts: int = 12


@dataclass(frozen=True, slots=True)
class DeliveryTools:
    """The collaborators every record's delivery shares."""

    renderer: MailRenderer
    smtp: SmtpPool
    dead_letters: DeadLetterPublisher
    sent: SentMessages
    retry: RetryPolicy
    group_id: str
    keyring: Keyring


class Delivery:
    """Delivers records, any number at once, with the shared tools."""

    def __init__(
        self, tools: DeliveryTools, stopping: asyncio.Event, tracer: Tracer | None = None
    ) -> None:
        """Share ``tools``; ``stopping`` cuts retry waits short at shutdown.

        ``tracer`` defaults to the global provider's, taken here, after tracing is
        configured, so it is the SDK's tracer itself and not a proxy that wraps every
        span in a second context manager.
        """
        self._tools = tools
        self._stopping = stopping
        self._tracer = tracer or trace.get_tracer("reelmail.mailer")

    async def deliver(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        """Finish one record inside its process span."""
        with self._tracer.start_as_current_span(
            f"{record.topic} process",
            context=context_from_headers(record.headers),
            kind=SpanKind.CONSUMER,
            attributes=_messaging_attributes(record, self._tools.group_id),
        ) as span:
            outcome = await self._process(record, span)
            span.set_attribute("reelmail.outcome", outcome.value)
            return outcome

    async def _process(self, record: ConsumerRecord[bytes, bytes], span: Span) -> Outcome:
        try:
            mail = decode_otp_mail(
                record.value,
                RecordPosition(record.topic, record.partition, record.offset),
                self._tools.keyring,
            )
        except PoisonMessageError as exc:
            _fail(span, exc)
            log.warning("poison record dead-lettered", reason=exc.reason, offset=record.offset)
            await self._dead_letter(record, exc.reason, exc.detail)
            metrics.EMAILS.labels(result="invalid").inc()
            return Outcome.INVALID
        metrics.CODE_FORMS.labels(form=_code_form(mail)).inc()
        span.set_attributes(
            {
                messaging.MESSAGING_MESSAGE_ID: mail.id,
                "mail.recipient.domain": recipient_domain(mail.email),
            }
        )
        if not self._tools.sent.reserve(mail.id):
            metrics.DUPLICATES_SUPPRESSED.inc()
            log.info("duplicate suppressed", message_id=mail.id)
            return Outcome.DUPLICATE
        outcome = Outcome.ABANDONED
        try:
            outcome = await self._deliver_reserved(record, mail, span)
        finally:
            if outcome is not Outcome.SENT:
                self._tools.sent.release(mail.id)
        return outcome

    async def _deliver_reserved(
        self, record: ConsumerRecord[bytes, bytes], mail: OtpMail, span: Span
    ) -> Outcome:
        """Deliver a message whose id this process holds, so no copy of it runs alongside."""
        if _expired(mail):
            return _count_expired(mail)
        try:
            message = self._tools.renderer.render(mail)
        except (UnicodeError, ValueError) as exc:
            _fail(span, exc)
            log.exception("render failed; dead-lettered", message_id=mail.id)
            await self._dead_letter(record, "render_failed", repr(exc))
            metrics.EMAILS.labels(result="invalid").inc()
            return Outcome.INVALID
        return await self._send_with_retries(record, mail, message)

    async def _send_with_retries(
        self, record: ConsumerRecord[bytes, bytes], mail: OtpMail, message: bytes
    ) -> Outcome:
        """Send until accepted, refused for good, expired, or out of tries.

        Only a failure of the mail itself (a 4xx reply, a drop mid-transaction) spends
        one of its ``max_attempts``. A relay that takes no connection at all (refused,
        unreachable, AUTH rejected) spends none: the mail waits for the relay, however
        long, until its code expires (see :mod:`mailer.relay_health`).
        """
        smtp, patience = self._tools.smtp, self._tools.retry.backoff.maximum
        attempts = tries = 0
        while not self._stopping.is_set():
            if _expired(mail):
                return _count_expired(mail)
            if (turn := await smtp.admit(self._stopping, patience)) is None:
                continue
            attempts += 1
            error = await self._attempt(mail, message, turn)
            if error is None:
                self._delivered(record, mail, attempts)
                return Outcome.SENT
            tries += not isinstance(error, RelayConnectionError)
            if (outcome := await self._after_failure(record, mail, error, tries)) is not None:
                return outcome
        return Outcome.ABANDONED

    async def _attempt(self, mail: OtpMail, message: bytes, turn: Turn) -> SendError | None:
        """Send once; return why it failed, or None when the relay accepted the mail."""
        try:
            await self._send_once(mail, message, turn)
        except SendError as exc:
            return exc
        return None

    async def _after_failure(
        self, record: ConsumerRecord[bytes, bytes], mail: OtpMail, error: SendError, tries: int
    ) -> Outcome | None:
        """Finish a mail the relay refused, or wait before its next try (None)."""
        if isinstance(error, RelayConnectionError):
            # Not the mail's fault; RelayHealth spaces the next try, for every mail at once.
            if not isinstance(error, RelayNotTriedError):
                metrics.EMAILS.labels(result="retried").inc()
                log.debug("relay took no connection; the mail waits", message_id=mail.id)
            return None
        if isinstance(error, PermanentSendError):
            return await self._refused(record, mail, "smtp_permanent", error)
        if _expired(mail):
            return _count_expired(mail)
        if tries >= self._tools.retry.max_attempts:
            return await self._refused(record, mail, "retries_exhausted", error)
        await self._wait_to_retry(mail, tries, error)
        return None

    async def _send_once(self, mail: OtpMail, message: bytes, turn: Turn) -> None:
        """Send once, recording the relay's answer on the record's process span.

        One span a mail: the SMTP transaction gets no span of its own. Its reply code is
        an attribute of the process span, and each failed try an event on it; the
        process span's status is the mail's outcome, not one try's.
        """
        span = trace.get_current_span()
        started = time.perf_counter()
        try:
            reply = await self._tools.smtp.send(mail.email, message, turn)
        except SendError as exc:
            _attempt_failed(span, exc)
            raise
        finally:
            metrics.SMTP_SEND_DURATION.observe(
                time.perf_counter() - started, exemplar=span_exemplar(span)
            )
        span.set_attribute(SMTP_REPLY_CODE, reply.code)

    def _delivered(
        self, record: ConsumerRecord[bytes, bytes], mail: OtpMail, attempts: int
    ) -> None:
        self._tools.sent.add(mail.id)
        issued = mail.issued_at.timestamp() if mail.issued_at else record.timestamp / _MS
        metrics.DELIVERY_LATENCY.observe(
            max(0.0, time.time() - issued), exemplar=current_trace_exemplar()
        )
        metrics.EMAILS.labels(result="sent").inc()
        log.info("mail sent", message_id=mail.id, email=mail.email, attempts=attempts)

    async def _wait_to_retry(self, mail: OtpMail, attempt: int, exc: SendError) -> None:
        metrics.EMAILS.labels(result="retried").inc()
        wait = self._tools.retry.backoff.delay(attempt)
        log.warning(
            "send failed; will retry",
            message_id=mail.id,
            attempt=attempt,
            smtp_code=exc.code,
            error=str(exc),
            retry_in=round(wait, 2),
        )
        await wait_event(self._stopping, wait)

    async def _refused(
        self, record: ConsumerRecord[bytes, bytes], mail: OtpMail, reason: str, exc: Exception
    ) -> Outcome:
        _fail(trace.get_current_span(), exc)
        log.warning("mail not deliverable; dead-lettered", message_id=mail.id, reason=reason)
        await self._dead_letter(record, reason, str(exc))
        metrics.EMAILS.labels(result="dead_lettered").inc()
        return Outcome.DEAD_LETTERED

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, error: str
    ) -> None:
        await self._tools.dead_letters.publish(record, reason, error)
        metrics.DEAD_LETTERS.labels(reason=reason).inc()


def _messaging_attributes(
    record: ConsumerRecord[bytes, bytes], group_id: str
) -> dict[str, str | int]:
    return {
        messaging.MESSAGING_SYSTEM: messaging.MessagingSystemValues.KAFKA.value,
        messaging.MESSAGING_OPERATION_TYPE: messaging.MessagingOperationTypeValues.PROCESS.value,
        messaging.MESSAGING_OPERATION_NAME: "process",
        messaging.MESSAGING_DESTINATION_NAME: record.topic,
        messaging.MESSAGING_DESTINATION_PARTITION_ID: str(record.partition),
        messaging.MESSAGING_CONSUMER_GROUP_NAME: group_id,
        messaging.MESSAGING_KAFKA_OFFSET: record.offset,
    }


def _fail(span: Span, exc: Exception) -> None:
    """Mark the span failed with the error's type and text (which never hold a code)."""
    span.set_attribute("error.type", type(exc).__name__)
    span.set_status(Status(StatusCode.ERROR, mask_embedded_addresses(str(exc))[:200]))


def _attempt_failed(span: Span, exc: SendError) -> None:
    """Record one failed try as an event; the last reply code stays on the span."""
    attributes: dict[str, str | int] = {"error.type": type(exc).__name__}
    if exc.code is not None:
        attributes[SMTP_REPLY_CODE] = exc.code
        span.set_attribute(SMTP_REPLY_CODE, exc.code)
    span.add_event("smtp send failed", attributes)


def _code_form(mail: OtpMail) -> str:
    """How the code travelled: operators watch clear forms fall to 0 after an upgrade."""
    if mail.sealed:
        return "sealed"
    return "clear_legacy" if mail.legacy else "clear_v1"


def _expired(mail: OtpMail) -> bool:
    return mail.expires_at is not None and mail.expires_at <= datetime.now(UTC)


def _count_expired(mail: OtpMail) -> Outcome:
    metrics.EMAILS.labels(result="expired").inc()
    log.info("expired code skipped", message_id=mail.id)
    return Outcome.EXPIRED
