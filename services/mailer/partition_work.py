"""The in-flight work of the assigned partitions: tasks, progress and commits.

Shared by the fetch loop (which starts work), the committer (which commits finished
prefixes), the rebalance listener (which drains revoked partitions) and the lag
gauges (which read the oldest unfinished record).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog
from aiokafka.errors import KafkaError

from mailer import metrics
from mailer.offsets import PartitionProgress

if TYPE_CHECKING:
    from collections.abc import Iterable

    from aiokafka import AIOKafkaConsumer, TopicPartition

log = structlog.get_logger(__name__)


class PartitionWork:
    """Tasks and offset progress per partition, and the commits they allow."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        """Track work for ``consumer``'s assignment."""
        self._consumer = consumer
        self.progress: dict[TopicPartition, PartitionProgress] = {}
        self.tasks: dict[TopicPartition, set[asyncio.Task[object]]] = {}
        self.finished = asyncio.Event()
        self.slot_freed = asyncio.Event()

    @property
    def inflight(self) -> int:
        """Records being processed across every partition."""
        return sum(len(tasks) for tasks in self.tasks.values())

    def track(
        self,
        partition: TopicPartition,
        offset: int,
        timestamp_ms: int,
        task: asyncio.Task[object],
    ) -> None:
        """Register a started record and call back when its task ends."""
        self.progress.setdefault(partition, PartitionProgress()).start(offset, timestamp_ms)
        tasks = self.tasks.setdefault(partition, set())
        tasks.add(task)
        metrics.INFLIGHT.inc()
        task.add_done_callback(lambda done: self._done(partition, offset, done))

    def _done(self, partition: TopicPartition, offset: int, task: asyncio.Task[object]) -> None:
        metrics.INFLIGHT.dec()
        self.tasks.get(partition, set()).discard(task)
        finished = _finished(task)  # also logs a crash of a revoked partition's task
        progress = self.progress.get(partition)
        if progress is not None and finished:
            progress.finish(offset)
        self.finished.set()
        self.slot_freed.set()

    async def commit(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        """Commit the finished prefix of each partition that advanced since the last commit."""
        chosen = self.progress.keys() if partitions is None else partitions
        offsets = {tp: off for tp in chosen if (off := self._pending(tp)) is not None}
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:
            log.warning("commit failed; will retry", error=repr(exc))
            return
        for partition, offset in offsets.items():
            # A rebalance may have revoked (and forgotten) the partition during the commit.
            if (progress := self.progress.get(partition)) is not None:
                progress.committed = offset

    def _pending(self, partition: TopicPartition) -> int | None:
        progress = self.progress.get(partition)
        return None if progress is None else progress.pending_commit()

    async def drain(self, partitions: Iterable[TopicPartition], deadline: float) -> int:
        """Wait up to ``deadline`` s for these partitions' tasks; cancel and count the rest."""
        tasks = {task for tp in partitions for task in self.tasks.get(tp, set())}
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=deadline)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
            return len(pending)
        return 0

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Drop the state of partitions this consumer no longer owns."""
        for partition in partitions:
            self.progress.pop(partition, None)
            self.tasks.pop(partition, None)


def _finished(task: asyncio.Task[object]) -> bool:
    """Tell whether the record is done for good; a crash in delivery leaves it unfinished."""
    if task.cancelled():
        return False
    error = task.exception()
    if error is not None:
        log.error("delivery crashed; the record stays uncommitted", exc_info=error)
        return False
    return task.result() is True
