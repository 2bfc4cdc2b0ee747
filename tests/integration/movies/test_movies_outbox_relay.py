"""The outbox relay and sign-in transactions in-process, on SQLite and a real PostgreSQL.

Kafka is replaced by a recording publisher, so these tests can look at exactly what
would be sent, in which trace context, how often, and what stays in the tables.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from sqlalchemy import event, func, select

from conftest import database_url
from devstack.seal_keys import keyring_of, seal_settings
from mailcontract import Locale, OtpMail, Purpose, RecordPosition, decode_otp_mail
from movies.auth.rate_limits import RateLimit, RateLimitedError
from movies.auth.sign_in import CodeIssuer, SignInPolicy
from movies.housekeeping import Housekeeping
from movies.outbox import trace_context
from movies.outbox.messages import MailRoute, enqueue_mail
from movies.outbox.models import OutboxMessage
from movies.outbox.relay import OutboxRelay
from movies.platform.database import Database, open_database
from movies.platform.settings import OutboxSettings
from movies.schema_migrations import upgrade_schema

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from movies.outbox.code_publisher import CodePublisher

pytestmark = pytest.mark.integration
TOPIC = "mail.otp.test"
ROUTE = MailRoute(TOPIC, keyring_of(seal_settings()))


class RecordingPublisher:
    """Stands in for Kafka: acknowledges after ``delay`` and remembers every send."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.sent: list[dict[str, Any]] = []

    async def ensure_started(self) -> None:
        return None

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[object]:
        span = trace.get_current_span().get_span_context()
        self.sent.append(
            {"topic": topic, "key": key, "value": value, "headers": dict(headers), "trace": span}
        )
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(self.delay, future.set_result, None)
        return future

    async def stop(self) -> None:
        return None


def _settings(**changes: Any) -> OutboxSettings:
    values: dict[str, Any] = {
        "poll_seconds": 30.0,
        "batch_size": 50,
        "publish_timeout_seconds": 10.0,
        "backoff_initial_seconds": 0.05,
        "backoff_max_seconds": 0.2,
        "retention_seconds": 3600,
        "shutdown_timeout_seconds": 10.0,
    }
    return OutboxSettings(**(values | changes))


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    url = await asyncio.to_thread(database_url, request.param, request, tmp_path_factory)
    db = open_database(url)
    await upgrade_schema(db)
    yield db
    await db.dispose()


def _relay(db: Database, publisher: RecordingPublisher, **changes: Any) -> OutboxRelay:
    retention = timedelta(seconds=changes.get("retention_seconds", 3600))
    housekeeping = Housekeeping(db, retention, timedelta(hours=1))
    publisher_as = cast("CodePublisher", publisher)
    return OutboxRelay(db, publisher_as, _settings(**changes), asyncio.Event(), housekeeping)


async def _enqueue(db: Database, count: int, carrier: dict[str, str] | None = None) -> list[str]:
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    async with db.write_connection() as connection:
        for message_id in ids:
            mail = OtpMail(
                id=message_id,
                email=f"{message_id[:8]}@example.com",
                code="123456",
                issued_at=now,
                expires_at=now + timedelta(minutes=10),
            )
            await enqueue_mail(connection, mail, ROUTE, carrier or {}, now)
    return ids


async def _pending(db: Database) -> int:
    async with db.reads() as session:
        statement = select(func.count()).where(OutboxMessage.sent_at.is_(None))
        return int((await session.execute(statement)).scalar_one())


async def _until(condition: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.02)


async def test_relay_publishes_in_the_request_trace_and_retires_rows(database: Database) -> None:
    span = NonRecordingSpan(SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=TraceFlags(1)))
    with trace.use_span(span):
        carrier = trace_context.capture()
    ids = await _enqueue(database, 3, carrier)
    publisher = RecordingPublisher()
    relay = _relay(database, publisher)
    relay.start()
    relay.wakeup.set()
    try:
        await _until(lambda: _no_pending(database))
    finally:
        await relay.stop()
    assert sorted(record["value"] and _id(record) for record in publisher.sent) == sorted(ids)
    for record in publisher.sent:
        assert record["trace"].trace_id == 0xABC
        assert record["headers"]["content-type"] == b"application/json"
        assert record["headers"]["message-type"] == b"reelmail.otp.v2"
        assert record["headers"]["traceparent"].startswith(b"00-00000000000000000000000000000abc-")
    async with database.reads() as session:
        payloads = (await session.execute(select(OutboxMessage.payload))).scalars().all()
    assert payloads == [None, None, None], "a sent row still holds the code"


async def test_a_pending_row_holds_the_code_sealed_only(database: Database) -> None:
    [message_id] = await _enqueue(database, 1)
    async with database.reads() as session:
        [payload] = (await session.execute(select(OutboxMessage.payload))).scalars().all()
    assert payload is not None
    assert b"123456" not in payload
    position = RecordPosition(TOPIC, 0, 0)
    mail = decode_otp_mail(payload, position, ROUTE.keyring)
    assert (mail.id, mail.code, mail.sealed) == (message_id, "123456", True)


def _id(record: dict[str, Any]) -> str:
    import json  # noqa: PLC0415 -- only this helper decodes records

    return str(json.loads(record["value"])["id"])


async def _no_pending(db: Database) -> bool:
    return await _pending(db) == 0


async def test_stop_lets_the_current_batch_finish(database: Database) -> None:
    await _enqueue(database, 5)
    publisher = RecordingPublisher(delay=0.5)
    relay = _relay(database, publisher)
    relay.start()
    relay.wakeup.set()
    await _until(lambda: _sent_any(publisher))
    await relay.stop()
    assert len(publisher.sent) == 5
    assert await _pending(database) == 0


async def _sent_any(publisher: RecordingPublisher) -> bool:
    return bool(publisher.sent)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_two_relays_never_send_a_row_twice(database: Database) -> None:
    """``FOR UPDATE SKIP LOCKED`` in action; SQLite runs one relay per file by design."""
    ids = await _enqueue(database, 120)
    publishers = [RecordingPublisher(delay=0.01), RecordingPublisher(delay=0.01)]
    relays = [_relay(database, publisher, batch_size=10) for publisher in publishers]
    for relay in relays:
        relay.start()
        relay.wakeup.set()
    try:
        await _until(lambda: _no_pending(database), within=30)
    finally:
        for relay in relays:
            await relay.stop()
    sent = [_id(record) for publisher in publishers for record in publisher.sent]
    assert sorted(sent) == sorted(ids)
    assert all(publisher.sent for publisher in publishers), "one relay did all the work"


async def test_issuing_wakes_the_relay_only_after_commit_and_limits_per_client(
    database: Database,
) -> None:
    rule = RateLimit("codes_per_client", 2, 3600)
    generous = RateLimit("codes_per_address", 100, 3600)
    policy = SignInPolicy("s" * 32, timedelta(minutes=10), 5, ROUTE, generous, rule, generous)
    wakeup = asyncio.Event()
    issuer = CodeIssuer(database, policy, wakeup)
    for number in range(2):
        await issuer.issue(f"user{number}@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.1")
        assert wakeup.is_set()
        wakeup.clear()
    with pytest.raises(RateLimitedError) as refused:
        await issuer.issue("user9@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.1")
    assert refused.value.bucket == "codes_per_client"
    assert not wakeup.is_set()
    assert await _pending(database) == 2
    await issuer.issue("user9@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.2")
    assert await _pending(database) == 3


async def test_a_request_refused_by_one_limit_counts_against_neither(database: Database) -> None:
    per_client = RateLimit("codes_per_client", 2, 3600)
    per_address = RateLimit("codes_per_address", 1, 3600)
    policy = SignInPolicy(
        "s" * 32, timedelta(minutes=10), 5, ROUTE, per_address, per_client, per_client
    )
    issuer = CodeIssuer(database, policy, asyncio.Event())
    await issuer.issue("once@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.3")
    for _ in range(3):
        with pytest.raises(RateLimitedError) as refused:
            await issuer.issue("once@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.3")
        assert refused.value.bucket == "codes_per_address"
        assert refused.value.retry_after >= 1
    await issuer.issue("other@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.3")
    with pytest.raises(RateLimitedError) as refused:
        await issuer.issue("third@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.3")
    assert refused.value.bucket == "codes_per_client"
    assert await _pending(database) == 2


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_issuing_a_code_on_postgresql_is_one_statement(database: Database) -> None:
    """All the writes are one call of issue_code(), on a connection in autocommit (so no
    BEGIN or COMMIT goes around it): one round trip."""
    assert database.autocommit is not None
    assert database.autocommit.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
    rule = RateLimit("any", 100, 3600)
    policy = SignInPolicy("s" * 32, timedelta(minutes=10), 5, ROUTE, rule, rule, rule)
    issuer = CodeIssuer(database, policy, asyncio.Event())
    await issuer.issue("warm@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.4")  # connects
    statements: list[str] = []

    def record(*arguments: Any) -> None:
        statements.append(arguments[2])

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        await issuer.issue("one@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.4")
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert len(statements) == 1, statements
    assert statements[0].startswith("SELECT issue_code("), statements
    assert await _pending(database) == 2


async def _rows(db: Database) -> int:
    async with db.reads() as session:
        return int((await session.execute(select(func.count(OutboxMessage.id)))).scalar_one())


async def test_sent_rows_are_pruned_after_retention_and_pending_ones_kept(
    database: Database,
) -> None:
    await _enqueue(database, 2)
    relay = _relay(database, RecordingPublisher(), retention_seconds=0)
    relay.start()
    relay.wakeup.set()
    try:
        await _until(lambda: _no_rows(database))
    finally:
        await relay.stop()
    await _enqueue(database, 1)
    later = datetime.now(UTC) + timedelta(days=2)
    assert await Housekeeping(database, timedelta(0), timedelta(hours=1)).prune(later) == 0
    assert await _rows(database) == 1


async def _no_rows(db: Database) -> bool:
    return await _rows(db) == 0


async def test_a_commit_wakes_the_idle_relay_long_before_its_poll(database: Database) -> None:
    publisher = RecordingPublisher()
    relay = _relay(database, publisher, poll_seconds=60.0)
    relay.start()
    rule = RateLimit("any", 100, 3600)
    policy = SignInPolicy("s" * 32, timedelta(minutes=10), 5, ROUTE, rule, rule, rule)
    issuer = CodeIssuer(database, policy, relay.wakeup)
    try:
        await asyncio.sleep(0.3)  # the first cycle finds nothing; the relay now waits
        await issuer.issue("woken@example.com", Purpose.LOGIN, Locale.EN, "10.0.0.1")
        await _until(lambda: _sent_any(publisher), within=3.0)
    finally:
        await relay.stop()


async def _listening(relay: OutboxRelay) -> bool:
    return relay.listening


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_commit_on_another_replica_wakes_the_idle_relay_by_notify(
    database: Database,
) -> None:
    """Replica A issues with its own pool and its own wakeup, which no relay waits on;
    replica B's relay, idle with a 60 s poll, is woken by PostgreSQL's notification."""
    other_replica = open_database(database.engine.url.render_as_string(hide_password=False))
    publisher = RecordingPublisher()
    relay = _relay(database, publisher, poll_seconds=60.0)
    rule = RateLimit("any", 100, 3600)
    policy = SignInPolicy("s" * 32, timedelta(minutes=10), 5, ROUTE, rule, rule, rule)
    issuer = CodeIssuer(other_replica, policy, asyncio.Event())
    notified_before = _notifications()
    relay.start()
    try:
        await _until(lambda: _listening(relay))
        await asyncio.sleep(0.3)  # the first cycle finds nothing; the relay now waits
        message_id = await issuer.issue("elsewhere@example.com", Purpose.LOGIN, Locale.EN, "10.1")
        await _until(lambda: _sent_any(publisher), within=10.0)
    finally:
        await relay.stop()
        await other_replica.dispose()
    assert [_id(record) for record in publisher.sent] == [message_id]
    assert _notifications() > notified_before
    assert not relay.listening


def _notifications() -> float:
    from prometheus_client import REGISTRY  # noqa: PLC0415 -- only this helper reads metrics

    return REGISTRY.get_sample_value("movies_outbox_notifications_total") or 0.0


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_relay_told_not_to_listen_leaves_other_replicas_rows_to_its_poll(
    database: Database,
) -> None:
    publisher = RecordingPublisher()
    relay = _relay(database, publisher, poll_seconds=60.0, listen=False)
    relay.start()
    try:
        await asyncio.sleep(0.3)  # the first cycle finds nothing; the relay now waits
        await _enqueue(database, 1)  # another replica's commit: no local wakeup
        await asyncio.sleep(1.0)
        assert not relay.listening
        assert not publisher.sent
    finally:
        await relay.stop()
