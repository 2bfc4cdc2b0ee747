"""The consumer loop: fetch within the in-flight bound, deliver concurrently, commit prefixes.

Auto-commit is off. Records of any partition are processed concurrently up to
``MAILER_MAX_INFLIGHT``; when the bound is reached, the assigned partitions are paused
(the consumer keeps polling, so it stays in the group) and anything fetched beyond the
bound is sought back. A committer commits each partition's finished prefix as soon as
it advances, so a crash repeats at most the records that were in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from mailer import metrics
from mailer.consumer_lag import ConsumerLag
from mailer.dead_letters import MAX_REQUEST_BYTES, DeadLetterPublisher
from mailer.delivery import Delivery, DeliveryTools, Outcome, RetryPolicy
from mailer.helper_tasks import HelperTasks
from mailer.mail_templates import MailRenderer
from mailer.partition_work import PartitionWork
from mailer.readiness import Readiness
from mailer.relay_health import RelayHealth
from mailer.sent_messages import SentMessages
from mailer.smtp_transport import SmtpPool
from pacing import Backoff, FailureStreak
from pacing.deadlines import wait_event

if TYPE_CHECKING:
    from mailer.settings import MailerSettings

log = structlog.get_logger(__name__)
Batches = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
_HELPER_STOP_SECONDS = 5.0
_FIRST_RETRY_SECONDS = 0.2
_FIRST_DEAD_LETTER_RETRY_SECONDS = 0.5


class MailConsumer:
    """Owns the Kafka clients, the SMTP pool and the in-flight work of one process."""

    def __init__(self, settings: MailerSettings) -> None:
        """Build the clients; :meth:`run` connects them."""
        self.settings = settings
        self.stopping = asyncio.Event()
        self.joined = False
        self._consumer = AIOKafkaConsumer(
            **settings.kafka.client_options(),
            group_id=settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="mailer",
        )
        self._producer = AIOKafkaProducer(
            **settings.kafka.producer_options("mailer-dlq", max_request_size=MAX_REQUEST_BYTES)
        )
        retry = RetryPolicy(
            Backoff(_FIRST_RETRY_SECONDS, settings.retry_max_seconds),
            max_attempts=settings.retry_max_attempts,
        )
        self.smtp = SmtpPool(settings.smtp, RelayHealth(retry.backoff.delay))
        self.work = PartitionWork(self._consumer)
        self.lag = ConsumerLag(self._consumer, self.work, settings)
        self.readiness = Readiness(self, settings.lag_interval_seconds)
        self._delivery = Delivery(self._tools(retry), self.stopping)
        self._paused = False

    def _tools(self, retry: RetryPolicy) -> DeliveryTools:
        settings = self.settings
        return DeliveryTools(
            renderer=MailRenderer(settings.smtp.from_address, settings.smtp.from_name),
            smtp=self.smtp,
            dead_letters=DeadLetterPublisher(self._producer, settings.dead_letter_topic),
            sent=SentMessages(settings.dedup_ttl_seconds),
            retry=retry,
            group_id=settings.group_id,
            keyring=settings.keyring,
        )

    async def run(self) -> None:
        """Consume until :attr:`stopping` is set, drain, commit, close everything."""
        await self._producer.start()
        try:
            self._consumer.subscribe([self.settings.topic], listener=_Rebalance(self))
            await self._consumer.start()
            log.info("mailer consuming", topic=self.settings.topic, group=self.settings.group_id)
            await self._consume_until_stopped()
        finally:
            await self._close()
        log.info("mailer stopped")

    async def _consume_until_stopped(self) -> None:
        """Fetch until stopped, then drain; raise if a helper's death was the stop."""
        helpers = HelperTasks(self.stopping)
        helpers.start("committer", self._commit_loop)
        helpers.start("lag", self.lag.run)
        helpers.start("readiness", self.readiness.run)
        try:
            await self._fetch_loop()
            abandoned = await self.work.drain(list(self.work.tasks), self.settings.drain_seconds)
            await self.work.commit()
            log.info("in-flight work drained", abandoned=abandoned)
        finally:
            await helpers.stop(_HELPER_STOP_SECONDS)
        helpers.raise_if_died()

    async def _close(self) -> None:
        with contextlib.suppress(KafkaError):
            await self._consumer.stop()
        await self.lag.close()
        await self.smtp.close()
        await self._producer.stop()

    async def _fetch_loop(self) -> None:
        while not self.stopping.is_set():
            free = self.settings.max_inflight - self.work.inflight
            if free <= 0:
                self._pause_all()
                await self._wait_for_slot()
            else:
                self._resume_all()
            batches: Batches = await self._consumer.getmany(
                timeout_ms=500 if free > 0 else 0, max_records=max(free, 1)
            )
            self._take(batches, free)

    def _take(self, batches: Batches, free: int) -> None:
        for partition, records in batches.items():
            metrics.MESSAGES_RECEIVED.labels(topic=partition.topic).inc(len(records))
            taken, rest = records[: max(free, 0)], records[max(free, 0) :]
            free -= len(taken)
            for record in taken:
                task = asyncio.create_task(self._deliver(record))
                self.work.track(partition, record.offset, record.timestamp, task)
            if rest:
                self._consumer.seek(partition, rest[0].offset)

    async def _deliver(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """Deliver one record; True when it is finished and its offset may be committed."""
        failures = FailureStreak(
            Backoff(_FIRST_DEAD_LETTER_RETRY_SECONDS, self.settings.retry_max_seconds, jitter=0.0)
        )
        while not self.stopping.is_set():
            try:
                outcome = await self._delivery.deliver(record)
            except KafkaError as exc:
                log.warning("dead-letter publish failed; will retry", error=repr(exc))
                await wait_event(self.stopping, failures.next_delay())
                continue
            return outcome is not Outcome.ABANDONED
        return False

    async def _commit_loop(self, closing: asyncio.Event) -> None:
        while not closing.is_set():
            await wait_event(self.work.finished, 1.0)
            self.work.finished.clear()
            await self.work.commit()

    async def _wait_for_slot(self) -> None:
        """Wait (at most a second, so polling continues) until a record finishes."""
        self.work.slot_freed.clear()
        if self.work.inflight < self.settings.max_inflight:
            return
        await wait_event(self.work.slot_freed, 1.0)

    def _pause_all(self) -> None:
        assigned = self._consumer.assignment()
        if assigned:
            self._consumer.pause(*assigned)
            self._paused = True

    def _resume_all(self) -> None:
        if self._paused:
            self._consumer.resume(*self._consumer.assignment())
            self._paused = False


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka's listener base is untyped
    """Finish or abandon revoked partitions' work and commit it before they move."""

    def __init__(self, owner: MailConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        owner = self._owner
        abandoned = await owner.work.drain(revoked, owner.settings.rebalance_drain_seconds)
        await owner.work.commit(revoked)
        owner.work.forget(revoked)
        owner.lag.forget(revoked)
        if revoked:
            log.info("partitions revoked", count=len(revoked), abandoned=abandoned)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._owner.joined = True
        log.info("partitions assigned", partitions=sorted(tp.partition for tp in assigned))
