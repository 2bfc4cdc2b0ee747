"""PartitionWork: what is committed, with tasks finishing, failing and partitions moving."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.partition_work import PartitionWork

TOPIC = "mail.otp.v1"


@dataclass
class RecordingConsumer:
    """Stands in for AIOKafkaConsumer.commit: records each commit, can fail or stall."""

    commits: list[dict[TopicPartition, int]] = field(default_factory=list)
    fail: bool = False
    during_commit: asyncio.Event | None = None
    release: asyncio.Event | None = None

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.during_commit is not None and self.release is not None:
            self.during_commit.set()
            await self.release.wait()
        if self.fail:
            raise KafkaError
        self.commits.append(dict(offsets))

    def committed(self, partition: TopicPartition) -> int | None:
        for commit in reversed(self.commits):
            if partition in commit:
                return commit[partition]
        return None


async def _settle() -> None:
    """Let done callbacks (scheduled with call_soon) run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def _sent() -> bool:
    return True


async def _crash() -> object:
    msg = "a bug in delivery"
    raise RuntimeError(msg)


def _track(work: PartitionWork, partition: TopicPartition, offset: int, task: asyncio.Task) -> None:  # type: ignore[type-arg]
    work.track(partition, offset, offset * 10, task)


async def test_a_partition_revoked_during_a_commit_does_not_break_the_committer() -> None:
    """Issue 13 defect 5: the committer died of a KeyError on a forgotten partition."""
    stalled, release = asyncio.Event(), asyncio.Event()
    consumer = RecordingConsumer(during_commit=stalled, release=release)
    work = PartitionWork(consumer)  # type: ignore[arg-type]
    partition = TopicPartition(TOPIC, 0)
    _track(work, partition, 0, asyncio.create_task(_sent()))
    await _settle()
    commit = asyncio.create_task(work.commit())
    await stalled.wait()
    work.forget([partition])  # the rebalance listener, while the commit is on its way
    release.set()
    await commit
    assert consumer.commits == [{partition: 1}]
    assert partition not in work.progress


async def test_a_failed_commit_is_retried_by_the_next_one() -> None:
    consumer = RecordingConsumer(fail=True)
    work = PartitionWork(consumer)  # type: ignore[arg-type]
    partition = TopicPartition(TOPIC, 0)
    _track(work, partition, 0, asyncio.create_task(_sent()))
    await _settle()
    await work.commit()
    assert consumer.commits == []
    consumer.fail = False
    await work.commit()
    await work.commit()
    assert consumer.commits == [{partition: 1}]


async def test_a_crashed_or_cancelled_delivery_stays_uncommitted() -> None:
    consumer = RecordingConsumer()
    work = PartitionWork(consumer)  # type: ignore[arg-type]
    partition = TopicPartition(TOPIC, 0)
    _track(work, partition, 0, asyncio.create_task(_sent()))
    _track(work, partition, 1, asyncio.create_task(_crash()))
    _track(work, partition, 2, asyncio.create_task(_sent()))
    await _settle()
    await work.commit()
    assert consumer.committed(partition) == 1
    assert work.inflight == 0


async def test_drain_waits_for_quick_work_and_cancels_the_rest() -> None:
    work = PartitionWork(RecordingConsumer())  # type: ignore[arg-type]
    revoked, kept = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    slow = asyncio.create_task(asyncio.sleep(60, result=True))
    quick = asyncio.create_task(asyncio.sleep(0.01, result=True))
    elsewhere = asyncio.create_task(asyncio.sleep(60, result=True))
    _track(work, revoked, 0, quick)
    _track(work, revoked, 1, slow)
    _track(work, kept, 0, elsewhere)
    assert await work.drain([revoked], deadline=0.2) == 1
    assert slow.cancelled()
    assert quick.result() is True
    assert not elsewhere.done()
    assert work.inflight == 1
    elsewhere.cancel()
    await asyncio.wait([elsewhere])


OUTCOMES = st.sampled_from(["sent", "unfinished", "crash", "cancel"])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[tuple[int, int, str]], list[int], int | None]:
    """Records (partition, offset, outcome), the order they end in, and a revoked one."""
    records = []
    for partition in range(draw(st.integers(1, 3))):
        offset = 0
        for _ in range(draw(st.integers(0, 8))):
            offset += draw(st.integers(1, 2))
            records.append((partition, offset, draw(OUTCOMES)))
    order = draw(st.permutations(range(len(records))))
    revoke_after = draw(st.none() | st.integers(0, len(records) - 1)) if records else None
    return records, order, revoke_after


def _expected_commit(records: list[tuple[int, int, str]], partition: int) -> int | None:
    committed = None
    for part, offset, outcome in records:
        if part != partition:
            continue
        if outcome != "sent":
            break
        committed = offset + 1
    return committed


async def _play(
    records: list[tuple[int, int, str]], order: list[int], revoke_after: int | None
) -> tuple[RecordingConsumer, PartitionWork]:
    consumer = RecordingConsumer()
    work = PartitionWork(consumer)  # type: ignore[arg-type]
    gates = [asyncio.get_running_loop().create_future() for _ in records]
    for (partition, offset, _), gate in zip(records, gates, strict=True):
        _track(work, TopicPartition(TOPIC, partition), offset, asyncio.ensure_future(gate))
    for step, index in enumerate(order):
        if step == revoke_after:
            await work.commit([TopicPartition(TOPIC, 0)])
            work.forget([TopicPartition(TOPIC, 0)])
        outcome = records[index][2]
        _end(gates[index], outcome)
        await _settle()
        await work.commit()
    return consumer, work


def _end(gate: asyncio.Future, outcome: str) -> None:  # type: ignore[type-arg]
    if outcome == "sent":
        gate.set_result(True)
    elif outcome == "unfinished":
        gate.set_result(False)  # delivery returned "abandoned": not finished
    elif outcome == "crash":
        gate.set_exception(RuntimeError("a bug in delivery"))
    else:
        gate.cancel()


@given(scenarios())
@settings(max_examples=100, deadline=None)
def test_commits_are_exactly_the_sent_prefix_of_each_partition(
    scenario: tuple[list[tuple[int, int, str]], list[int], int | None],
) -> None:
    records, order, revoke_after = scenario
    consumer, work = asyncio.run(_play(records, order, revoke_after))
    assert work.inflight == 0
    for partition in {part for part, _, _ in records}:
        tp = TopicPartition(TOPIC, partition)
        offsets = [commit[tp] for commit in consumer.commits if tp in commit]
        assert offsets == sorted(set(offsets)), "each commit moves forward, once"
        if partition == 0 and revoke_after is not None:
            # Revoked: commits stop at what was finished then; never past the sent prefix.
            expected = _expected_commit(records, 0)
            assert not offsets or expected is None or offsets[-1] <= expected
            assert tp not in work.progress
        else:
            assert consumer.committed(tp) == _expected_commit(records, partition)
