"""The relay: a lifespan task that moves outbox rows to Kafka and marks them sent.

It is woken by the commit of a new row (an :class:`asyncio.Event` the request sets after
its transaction commits), so mail goes out at once. On PostgreSQL a commit by any
replica wakes it too (``LISTEN/NOTIFY``, :mod:`movies.outbox.wakeups`); the slow poll
is only the safety net. While the broker is away it backs off exponentially and rows wait.
On PostgreSQL, rows are claimed with ``FOR UPDATE SKIP LOCKED`` so replicas never send
the same row twice at once; SQLite has a single relay (one process owns the file).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import structlog
from aiokafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from movies.outbox import trace_context
from movies.outbox.messages import claim_batch, count_failed_attempt, mark_sent, pending_summary
from movies.outbox.models import OutboxMessage
from movies.outbox.wakeups import CommitListener
from movies.platform import metrics
from pacing import Backoff, FailureStreak, wait_event

if TYPE_CHECKING:
    from movies.outbox.code_publisher import CodePublisher
    from movies.platform.database import Database
    from movies.platform.settings import OutboxSettings

log = structlog.get_logger(__name__)
PRUNE_INTERVAL_SECONDS = 60.0
_RETRYABLE = (KafkaError, SQLAlchemyError, OSError, TimeoutError)


class Pruner(Protocol):
    """Deletes rows that have served their purpose; the relay runs it every so often."""

    async def prune(self, now: datetime) -> int:
        """Delete what is due at ``now``; return how many rows went."""
        ...


@dataclass
class SendOutcome:
    """Which rows the broker acknowledged, and the first failure if any."""

    sent: list[str] = field(default_factory=list)
    unsent: list[str] = field(default_factory=list)
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class InFlight:
    """A record handed to the producer, waiting for the broker's acknowledgement."""

    row: OutboxMessage
    future: asyncio.Future[object]
    started: float
    exemplar: dict[str, str]

    def acknowledged(self) -> None:
        """Count the publish, with the request's trace id as the latency exemplar."""
        elapsed = time.perf_counter() - self.started
        duration = metrics.KAFKA_PUBLISH_DURATION.labels(self.row.topic)
        duration.observe(elapsed, self.exemplar or None)
        metrics.KAFKA_PUBLISHES.labels(self.row.topic, "ok").inc()


class OutboxRelay:
    """Owns the publishing task; :meth:`stop` lets the current batch finish."""

    def __init__(
        self,
        database: Database,
        publisher: CodePublisher,
        settings: OutboxSettings,
        wakeup: asyncio.Event,
        housekeeping: Pruner,
    ) -> None:
        """Wire the relay; :meth:`start` launches its task."""
        self._db = database
        self._housekeeping = housekeeping
        self._publisher = publisher
        self._settings = settings
        self.wakeup = wakeup
        self._stopping = asyncio.Event()
        retry = Backoff(settings.backoff_initial_seconds, settings.backoff_max_seconds, jitter=0.25)
        self._backoff = FailureStreak(retry)
        listens = database.is_postgresql and settings.listen
        self._listener = CommitListener(database, wakeup, retry) if listens else None
        self._task: asyncio.Task[None] | None = None
        self._last_prune = 0.0

    @property
    def listening(self) -> bool:
        """Whether other replicas' commits wake this relay now (PostgreSQL's LISTEN)."""
        return self._listener is not None and self._listener.listening

    def start(self) -> None:
        """Launch the relay task, and on PostgreSQL its commit listener, on the running loop."""
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        if self._listener is not None:
            self._listener.start()

    async def stop(self) -> None:
        """Ask the relay to stop after its batch; cancel it if it overstays the timeout."""
        self._stopping.set()
        self.wakeup.set()
        if self._listener is not None:
            await self._listener.stop()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            async with asyncio.timeout(self._settings.shutdown_timeout_seconds):
                await asyncio.shield(task)
        except TimeoutError:
            log.warning("outbox relay did not finish in time; cancelling it")
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        log.info("outbox relay started", postgresql=self._db.is_postgresql)
        while not self._stopping.is_set():
            self.wakeup.clear()
            try:
                await self._cycle()
            except _RETRYABLE as exc:
                await self._back_off(exc)
                continue
            except Exception as exc:  # a bug in one cycle must not stop all mail
                log.error("outbox relay cycle crashed", exc_info=exc)  # noqa: TRY400 -- exc_info given
                await self._back_off(exc)
                continue
            self._backoff.reset()
            await self._wait_for_work()
        log.info("outbox relay stopped")

    async def _back_off(self, exc: BaseException) -> None:
        delay = round(self._backoff.next_delay(), 2)
        log.warning("outbox relay waiting", error=type(exc).__name__, retry_in=delay)
        await self._refresh_gauges()
        await self._sleep(delay)

    async def _cycle(self) -> None:
        """Drain every pending row, then refresh the gauges and prune if due."""
        await self._publisher.ensure_started()
        while not self._stopping.is_set():
            if await self._publish_batch() < self._settings.batch_size:
                break
        await self._refresh_gauges()
        await self._prune_if_due()

    async def _publish_batch(self) -> int:
        if self._db.is_postgresql:
            async with self._db.write_session() as session:
                rows = await claim_batch(session, self._settings.batch_size, lock=True)
                outcome = await self._send(rows)
                await mark_sent(session, outcome.sent, datetime.now(UTC))
                await count_failed_attempt(session, outcome.unsent)
        else:
            async with self._db.reads() as session:
                rows = await claim_batch(session, self._settings.batch_size, lock=False)
            outcome = await self._send(rows)
            async with self._db.write_session() as session:
                await mark_sent(session, outcome.sent, datetime.now(UTC))
                await count_failed_attempt(session, outcome.unsent)
        if outcome.error is not None:
            raise outcome.error
        return len(rows)

    async def _send(self, rows: list[OutboxMessage]) -> SendOutcome:
        """Hand every row to the producer, then wait (bounded) for the acknowledgements."""
        outcome, result = SendOutcome(), "error"
        try:
            async with asyncio.timeout(self._settings.publish_timeout_seconds):
                in_flight = [await self._send_one(row) for row in rows]
                for record in in_flight:
                    await record.future
                    record.acknowledged()
                    outcome.sent.append(record.row.id)
        except TimeoutError as exc:
            outcome.error, result = exc, "timeout"
        except _RETRYABLE as exc:
            outcome.error, result = exc, "error"
        acknowledged = set(outcome.sent)
        unsent = [row for row in rows if row.id not in acknowledged]
        for row in unsent:
            metrics.KAFKA_PUBLISHES.labels(row.topic, result).inc()
        outcome.unsent = [row.id for row in unsent]
        return outcome

    async def _send_one(self, row: OutboxMessage) -> InFlight:
        """Publish inside the request's trace context, so the producer span joins its trace."""
        headers = [(name, value.encode()) for name, value in sorted(row.headers.items())]
        with trace_context.attached(row.trace_context):
            headers += trace_context.record_headers(row.trace_context)
            exemplar = metrics.trace_exemplar()
            started = time.perf_counter()
            future = await self._publisher.send(
                row.topic, row.message_key, row.payload or b"", headers
            )
        return InFlight(row, future, started, exemplar)

    async def _refresh_gauges(self) -> None:
        """Export the backlog on every cycle, so the gauges stay fresh while idle or blocked."""
        try:
            async with self._db.reads() as session:
                summary = await pending_summary(session, datetime.now(UTC))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("outbox backlog unknown", error=type(exc).__name__)
            return
        metrics.OUTBOX_PENDING.set(summary.count)
        metrics.OUTBOX_OLDEST_AGE.set(summary.oldest_age_seconds)

    async def _prune_if_due(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_INTERVAL_SECONDS:
            return
        self._last_prune = time.monotonic()
        pruned = await self._housekeeping.prune(datetime.now(UTC))
        if pruned:
            log.info("pruned stale rows", rows=pruned)

    async def _wait_for_work(self) -> None:
        """Until a commit wakes us, or the fallback poll interval passes."""
        await wait_event(self.wakeup, self._settings.poll_seconds)

    async def _sleep(self, seconds: float) -> None:
        await wait_event(self._stopping, seconds)
