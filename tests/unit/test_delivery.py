"""Delivery: what becomes of one record, for every way the relay can answer.

The relay is scripted (a stand-in for SmtpPool); RelayHealth's pacing of a failing
relay is tested on its own (test_relay_health.py), so here admission is immediate.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka.structs import ConsumerRecord
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, Tracer

from devstack.seal_keys import keyring_of, seal_settings
from mailcontract import OtpMail, encode_otp_mail
from mailer.delivery import Delivery, DeliveryTools, Outcome, RetryPolicy
from mailer.mail_templates import MailRenderer
from mailer.relay_health import ConnectionFailure, Turn
from mailer.sent_messages import SentMessages
from mailer.settings import SmtpSettings
from mailer.smtp_transport import (
    PermanentSendError,
    RelayConnectionError,
    SmtpReply,
    TransientSendError,
)
from pacing import Backoff
from relay_settings import smtp_settings

SETTINGS = smtp_settings(port=2525)
KEYRING = keyring_of(seal_settings())
ANSWERS = ("ok", "550", "451", "relay")


@dataclass
class ScriptedRelay:
    """Answers each send with the next scripted answer, then accepts everything."""

    script: list[str] = field(default_factory=list)
    forever: str | None = None
    settings: SmtpSettings = SETTINGS
    sends: int = 0

    async def admit(self, stopping: asyncio.Event, patience: float) -> Turn | None:
        del patience
        await asyncio.sleep(0)
        return None if stopping.is_set() else Turn()

    async def send(self, recipient: str, message: bytes, turn: Turn | None = None) -> SmtpReply:
        del recipient, message, turn
        self.sends += 1
        answer = self.script.pop(0) if self.script else (self.forever or "ok")
        if answer == "550":
            msg = "550 5.1.1 mailbox unavailable"
            raise PermanentSendError(msg, code=550)
        if answer == "451":
            msg = "451 4.3.0 try again later"
            raise TransientSendError(msg, code=451)
        if answer == "relay":
            raise RelayConnectionError(ConnectionFailure.AUTH_REJECTED, "535 5.7.8", code=535)
        return SmtpReply(code=250, message="queued")


@dataclass
class DeadLetters:
    letters: list[tuple[str, str]] = field(default_factory=list)

    async def publish(self, record: ConsumerRecord[bytes, bytes], reason: str, error: str) -> None:
        del record
        self.letters.append((reason, error))


def _mail(ttl: timedelta = timedelta(minutes=10)) -> OtpMail:
    now = datetime.now(UTC)
    return OtpMail(
        id=str(uuid.uuid4()),
        email="bob@example.com",
        code="042917",
        issued_at=now,
        expires_at=now + ttl,
    )


def _sealed(mail: OtpMail) -> bytes:
    return encode_otp_mail(mail, KEYRING)


def _record(value: bytes, offset: int = 0) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        "mail.otp.v1", 0, offset, 0, 0, b"bob@example.com", value, None, 15, len(value), []
    )


@dataclass
class Setup:
    relay: ScriptedRelay
    dead: DeadLetters
    sent: SentMessages
    delivery: Delivery
    stopping: asyncio.Event


def _setup(relay: ScriptedRelay, max_attempts: int = 3, tracer: Tracer | None = None) -> Setup:
    dead, sent, stopping = DeadLetters(), SentMessages(ttl_seconds=60), asyncio.Event()
    tools = DeliveryTools(
        renderer=MailRenderer(SETTINGS.from_address, SETTINGS.from_name),
        smtp=relay,  # type: ignore[arg-type]
        dead_letters=dead,  # type: ignore[arg-type]
        sent=sent,
        retry=RetryPolicy(Backoff(0.001, 0.002), max_attempts),
        group_id="mailer",
        keyring=KEYRING,
    )
    return Setup(relay, dead, sent, Delivery(tools, stopping, tracer), stopping)


async def test_an_accepted_mail_is_sent_once() -> None:
    setup = _setup(ScriptedRelay())
    assert await setup.delivery.deliver(_record(_sealed(_mail()))) is Outcome.SENT
    assert setup.relay.sends == 1
    assert setup.dead.letters == []


def _traced(relay: ScriptedRelay) -> tuple[Setup, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return _setup(relay, tracer=provider.get_tracer("unit")), exporter


def _one_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    [span] = exporter.get_finished_spans()
    assert span.kind is SpanKind.CONSUMER
    assert span.name == "mail.otp.v1 process"
    assert span.attributes is not None
    return span


async def test_a_sent_mail_is_one_span_with_the_relays_reply() -> None:
    setup, exporter = _traced(ScriptedRelay())
    mail = _mail()
    assert await setup.delivery.deliver(_record(_sealed(mail))) is Outcome.SENT
    span = _one_span(exporter)
    assert span.attributes["smtp.reply.code"] == 250
    assert span.attributes["messaging.message.id"] == mail.id
    assert span.status.status_code is not StatusCode.ERROR
    assert not span.events


async def test_a_retried_mail_is_one_span_with_an_event_per_failed_try() -> None:
    setup, exporter = _traced(ScriptedRelay(["451", "451"]))
    assert await setup.delivery.deliver(_record(_sealed(_mail()))) is Outcome.SENT
    span = _one_span(exporter)
    assert [event.name for event in span.events] == ["smtp send failed"] * 2
    assert dict(span.events[0].attributes or {}) == {
        "error.type": "TransientSendError",
        "smtp.reply.code": 451,
    }
    assert span.attributes["smtp.reply.code"] == 250
    assert span.status.status_code is not StatusCode.ERROR


async def test_a_refused_mail_is_one_failed_span() -> None:
    setup, exporter = _traced(ScriptedRelay(["550"]))
    assert await setup.delivery.deliver(_record(_sealed(_mail()))) is Outcome.DEAD_LETTERED
    span = _one_span(exporter)
    assert span.attributes["smtp.reply.code"] == 550
    assert span.status.status_code is StatusCode.ERROR


async def test_a_5xx_to_the_mail_is_dead_lettered_at_once() -> None:
    setup = _setup(ScriptedRelay(["550"]))
    assert await setup.delivery.deliver(_record(_sealed(_mail()))) is Outcome.DEAD_LETTERED
    assert setup.dead.letters == [("smtp_permanent", "550 5.1.1 mailbox unavailable")]
    assert setup.relay.sends == 1


async def test_4xx_replies_spend_the_attempts_then_dead_letter() -> None:
    setup = _setup(ScriptedRelay(forever="451"), max_attempts=3)
    assert await setup.delivery.deliver(_record(_sealed(_mail()))) is Outcome.DEAD_LETTERED
    assert setup.dead.letters == [("retries_exhausted", "451 4.3.0 try again later")]
    assert setup.relay.sends == 3


async def test_a_relay_refusing_our_connection_spends_no_attempt() -> None:
    """Issue 13 defect 4: a 535 at AUTH dead-lettered every mail as smtp_permanent."""
    setup = _setup(ScriptedRelay(["relay"] * 50 + ["451", "451"]), max_attempts=3)
    assert await setup.delivery.deliver(_record(_sealed(_mail()))) is Outcome.SENT
    assert setup.relay.sends == 53
    assert setup.dead.letters == []


async def test_a_mail_waiting_for_the_relay_expires_without_a_dead_letter() -> None:
    setup = _setup(ScriptedRelay(forever="relay"))
    mail = _mail(ttl=timedelta(milliseconds=200))
    assert await setup.delivery.deliver(_record(_sealed(mail))) is Outcome.EXPIRED
    assert setup.dead.letters == []


async def test_shutdown_abandons_a_waiting_mail_and_releases_its_id() -> None:
    setup = _setup(ScriptedRelay(forever="relay"))
    mail = _mail()
    delivering = asyncio.create_task(setup.delivery.deliver(_record(_sealed(mail))))
    await asyncio.sleep(0.05)
    setup.stopping.set()
    assert await delivering is Outcome.ABANDONED
    assert setup.dead.letters == []
    assert setup.sent.reserve(mail.id), "the next owner may send it"


async def test_an_expired_code_is_skipped_without_a_send() -> None:
    setup = _setup(ScriptedRelay())
    mail = _mail(ttl=timedelta(seconds=-1))
    assert await setup.delivery.deliver(_record(_sealed(mail))) is Outcome.EXPIRED
    assert setup.relay.sends == 0


async def test_a_message_id_sent_before_is_a_suppressed_duplicate() -> None:
    setup = _setup(ScriptedRelay())
    value = _sealed(_mail())
    assert await setup.delivery.deliver(_record(value, offset=0)) is Outcome.SENT
    assert await setup.delivery.deliver(_record(value, offset=1)) is Outcome.DUPLICATE
    assert setup.relay.sends == 1


async def test_a_poison_record_is_dead_lettered_with_its_reason() -> None:
    setup = _setup(ScriptedRelay())
    assert await setup.delivery.deliver(_record(b"not json")) is Outcome.INVALID
    assert [reason for reason, _ in setup.dead.letters] == ["not_json"]
    assert setup.relay.sends == 0


def _expected(script: list[str], max_attempts: int) -> tuple[Outcome, int, str | None]:
    """The outcome, the sends made and the dead-letter reason a script must lead to."""
    tries = 0
    for sends, answer in enumerate([*script, "ok"], start=1):
        if answer == "ok":
            return Outcome.SENT, sends, None
        if answer == "550":
            return Outcome.DEAD_LETTERED, sends, "smtp_permanent"
        if answer == "451":
            tries += 1
            if tries == max_attempts:
                return Outcome.DEAD_LETTERED, sends, "retries_exhausted"
    msg = "unreachable: the script ends with ok"
    raise AssertionError(msg)


@given(
    script=st.lists(st.sampled_from(ANSWERS), max_size=25),
    max_attempts=st.integers(1, 6),
)
@settings(max_examples=100, deadline=None)
def test_any_sequence_of_answers_ends_as_the_rules_say(
    script: list[str], max_attempts: int
) -> None:
    setup = _setup(ScriptedRelay(list(script)), max_attempts)

    async def run() -> Outcome:
        return await setup.delivery.deliver(_record(_sealed(_mail())))

    outcome = asyncio.run(run())
    expected_outcome, sends, reason = _expected(script, max_attempts)
    assert outcome is expected_outcome
    assert setup.relay.sends == sends
    assert [letter for letter, _ in setup.dead.letters] == ([reason] if reason else [])
