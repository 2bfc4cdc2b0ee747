"""Issue 13: the three-node cluster harness, and drill 9 with fewer messages, inside ``make test``.

Drill 9 SIGKILLs the leader of the busiest partition, then its new leader, so one replica
is left and no write can reach ``min.insync.replicas=2``: the outbox must hold the codes
(its backlog grows), and once the nodes return every code must be mailed, within the
README's duplicate bound. It covers drill 8's leader failover on the way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from drills.infrastructure import Infrastructure
from drills.report import console_row
from drills.runner import run_drill
from drills.scenarios import select

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from drills.settings import DrillSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def cluster_infra(drill_settings: DrillSettings) -> AsyncIterator[Infrastructure]:
    infra = Infrastructure(drill_settings.workdir / "cluster", cluster=True)
    await infra.start()
    yield infra
    await infra.stop()


async def test_topics_and_group_offsets_have_three_replicas_two_in_sync(
    cluster_infra: Infrastructure,
) -> None:
    cluster = cluster_infra.cluster
    await cluster.create_topics_async({"harness.replicated": 2})
    # A group's first commit creates __consumer_offsets, as the mailer's would.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=cluster.bootstrap_servers, group_id="harness", enable_auto_commit=False
    )
    await consumer.start()
    try:
        partition = TopicPartition("harness.replicated", 0)
        consumer.assign([partition])
        await consumer.commit({partition: 0})
    finally:
        await consumer.stop()
    for topic in ("harness.replicated", "__consumer_offsets"):
        partitions = await cluster.partitions([topic])
        assert partitions, topic
        assert all(len(p.replicas) == 3 and p.fully_replicated for p in partitions), partitions
        assert (await cluster.topic_settings(topic))["min.insync.replicas"] == "2"


async def test_one_replica_left_holds_every_code_and_loses_none(
    cluster_infra: Infrastructure, drill_settings: DrillSettings, reduced_rows: list[str]
) -> None:
    [drill] = select({9})
    settings = replace(drill_settings, duration_seconds=30.0, single_replica_seconds=8.0)
    outcome = await run_drill(drill, cluster_infra, settings)
    reduced_rows.append(console_row(outcome))
    notes = "\n".join(f"  {name}: {value}" for name, value in outcome.notes.items())
    assert outcome.passed, f"{console_row(outcome)}\n{notes}\nlogs: {settings.workdir}"
    assert outcome.requested == outcome.mailed > 0
