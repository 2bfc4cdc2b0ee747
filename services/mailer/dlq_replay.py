"""``python -m mailer dlq replay``: put dead letters back on the main topic.

Reads the dead-letter topic from the start (or from ``--since``) up to its end at the
moment the command starts, keeps the records matching ``--reason``, and republishes
each with its original key, value and headers (trace context included), minus the
``dlq-*`` headers, plus ``dlq-replayed-from``. With ``--dry-run`` it only counts.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from mailer.dead_letters import DLQ_HEADERS, HEADER_REASON
from mailer.kafka_topics import partitions_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiokafka.structs import ConsumerRecord

    from mailer.settings import MailerSettings


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    """What to replay."""

    since: datetime | None
    reason: str | None
    dry_run: bool


@dataclass
class ReplayReport:
    """What was found and what was republished, by reason."""

    matched: Counter[str]
    replayed: int

    def summary(self) -> str:
        """One line for the person who ran the command."""
        reasons = ", ".join(f"{reason}={count}" for reason, count in sorted(self.matched.items()))
        return (
            f"matched {sum(self.matched.values())} ({reasons or 'none'}); replayed {self.replayed}"
        )


def parse_replay_args(argv: Sequence[str]) -> ReplayRequest:
    """Parse ``[--since ISO] [--reason R] [--dry-run]``."""
    parser = argparse.ArgumentParser(prog="python -m mailer dlq replay", description=__doc__)
    parser.add_argument("--since", type=datetime.fromisoformat, default=None)
    parser.add_argument("--reason", default=None)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    return ReplayRequest(since=args.since, reason=args.reason, dry_run=args.dry_run)


async def replay_dead_letters(settings: MailerSettings, request: ReplayRequest) -> ReplayReport:
    """Republish matching dead letters to ``settings.topic`` and report the counts."""
    reader = AIOKafkaConsumer(
        **settings.kafka.client_options(), group_id=None, enable_auto_commit=False
    )
    writer = AIOKafkaProducer(**settings.kafka.producer_options("mailer-dlq-replay"))
    await reader.start()
    await writer.start()
    try:
        return await _replay(reader, writer, settings, request)
    finally:
        await reader.stop()
        await writer.stop()


async def _replay(
    reader: AIOKafkaConsumer,
    writer: AIOKafkaProducer,
    settings: MailerSettings,
    request: ReplayRequest,
) -> ReplayReport:
    partitions = await partitions_of(settings.kafka, settings.dead_letter_topic)
    ends = await _position_reader(reader, partitions, request.since)
    report = ReplayReport(matched=Counter(), replayed=0)
    while await _behind(reader, ends):
        batches = await reader.getmany(timeout_ms=1000)
        for partition, records in batches.items():
            for record in records:
                if record.offset < ends[partition]:
                    await _replay_one(writer, settings.topic, record, request, report)
    return report


async def _behind(reader: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await reader.position(partition) < end:
            return True
    return False


async def _position_reader(
    reader: AIOKafkaConsumer, partitions: list[TopicPartition], since: datetime | None
) -> dict[TopicPartition, int]:
    if not partitions:
        return {}
    reader.assign(partitions)
    ends: dict[TopicPartition, int] = await reader.end_offsets(partitions)
    starts = await reader.beginning_offsets(partitions)
    if since is not None:
        found = await reader.offsets_for_times(
            {tp: int(since.timestamp() * 1000) for tp in partitions}
        )
        starts = {tp: (found[tp].offset if found[tp] else ends[tp]) for tp in partitions}
    for partition in partitions:
        reader.seek(partition, starts[partition])
    return ends


async def _replay_one(
    writer: AIOKafkaProducer,
    topic: str,
    record: ConsumerRecord[bytes, bytes],
    request: ReplayRequest,
    report: ReplayReport,
) -> None:
    headers = dict(record.headers)
    reason = (headers.get(HEADER_REASON) or b"unknown").decode(errors="replace")
    if request.reason is not None and reason != request.reason:
        return
    report.matched[reason] += 1
    if request.dry_run:
        return
    kept = [(key, value) for key, value in record.headers if key not in DLQ_HEADERS]
    origin = f"{record.topic}/{record.partition}/{record.offset}".encode()
    await writer.send_and_wait(
        topic, value=record.value, key=record.key, headers=[*kept, ("dlq-replayed-from", origin)]
    )
    report.replayed += 1
