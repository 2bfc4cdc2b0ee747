"""Consumer lag gauges, refreshed on a fixed interval even while partitions are idle.

``mailer_consumer_lag_messages`` is the high watermark minus the group's committed
offset. ``mailer_consumer_lag_seconds`` is the age of the oldest unprocessed record:
the oldest in-flight record when there is one, otherwise the record at the committed
offset, read by a small group-less consumer (records waiting behind a pause were
never fetched by the main consumer).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Final

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from mailer import metrics
from pacing.deadlines import wait_event

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mailer.partition_work import PartitionWork
    from mailer.settings import MailerSettings

log = structlog.get_logger(__name__)
_MS: Final = 1000.0
_PEEK_TIMEOUT_SECONDS: Final = 2.0


class ConsumerLag:
    """Computes and exports lag for the partitions this process owns."""

    def __init__(
        self, consumer: AIOKafkaConsumer, work: PartitionWork, settings: MailerSettings
    ) -> None:
        """Read offsets through ``consumer``; peek with a consumer of our own when needed."""
        self._consumer = consumer
        self._work = work
        self._interval = settings.lag_interval_seconds
        self._kafka = settings.kafka
        # Made on first use: an AIOKafkaConsumer that is never started is never closed
        # either, and aiokafka reports it as "Unclosed AIOKafkaConsumer" when collected.
        self._peek: AIOKafkaConsumer | None = None

    async def run(self, stopping: asyncio.Event) -> None:
        """Refresh every interval until ``stopping``; errors skip one refresh, never the loop."""
        while not stopping.is_set():
            try:
                await self.refresh()
            except KafkaError as exc:
                log.warning("lag refresh failed", error=repr(exc))
            await wait_event(stopping, self._interval)

    async def refresh(self) -> None:
        """Set both gauges for every assigned partition."""
        partitions = sorted(self._consumer.assignment())
        if not partitions:
            return
        ends = await self._consumer.end_offsets(partitions)
        for partition in partitions:
            committed = await self._committed(partition)
            lag = max(0, ends[partition] - committed)
            seconds = await self._age_seconds(partition, committed, lag)
            labels = {"topic": partition.topic, "partition": str(partition.partition)}
            metrics.CONSUMER_LAG_MESSAGES.labels(**labels).set(lag)
            metrics.CONSUMER_LAG_SECONDS.labels(**labels).set(seconds)

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Stop exporting partitions another consumer now owns."""
        for partition in partitions:
            labels = (partition.topic, str(partition.partition))
            for gauge in (metrics.CONSUMER_LAG_MESSAGES, metrics.CONSUMER_LAG_SECONDS):
                with contextlib.suppress(KeyError):
                    gauge.remove(*labels)

    async def close(self) -> None:
        """Stop the peeking consumer if it was made."""
        peek, self._peek = self._peek, None
        if peek is not None:
            await peek.stop()

    async def _committed(self, partition: TopicPartition) -> int:
        committed = await self._consumer.committed(partition)
        if committed is not None:
            return int(committed)
        beginning = await self._consumer.beginning_offsets([partition])
        return int(beginning[partition])

    async def _age_seconds(self, partition: TopicPartition, committed: int, lag: int) -> float:
        if lag == 0:
            return 0.0
        progress = self._work.progress.get(partition)
        oldest_ms = progress.oldest_unfinished_timestamp_ms() if progress else None
        if oldest_ms is None:
            oldest_ms = await self._timestamp_at(partition, committed)
        return 0.0 if oldest_ms is None else max(0.0, time.time() - oldest_ms / _MS)

    async def _timestamp_at(self, partition: TopicPartition, offset: int) -> int | None:
        peek = await self._started_peek()
        peek.assign([partition])
        peek.seek(partition, offset)
        try:
            async with asyncio.timeout(_PEEK_TIMEOUT_SECONDS):
                record = await peek.getone(partition)
        except TimeoutError:
            return None
        return int(record.timestamp)

    async def _started_peek(self) -> AIOKafkaConsumer:
        if self._peek is None:
            peek = AIOKafkaConsumer(
                **self._kafka.client_options(),
                group_id=None,
                enable_auto_commit=False,
                client_id="mailer-lag",
            )
            try:
                await peek.start()
            except BaseException:
                await peek.stop()
                raise
            self._peek = peek
        return self._peek
