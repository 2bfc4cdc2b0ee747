"""The faults of the cluster drills: partition leaders SIGKILLed, a rolling restart.

Each injector works on the three-node cluster the suite runs (``Infrastructure.cluster``)
and writes what it saw of the cluster into the drill's notes: which node it killed and
why, how long the controller took to elect a new leader, and how long the node that
came back took to rejoin every ISR.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition

from drills.faults import DrillContext, FaultWindow

if TYPE_CHECKING:
    from devstack.kafka_cluster import KafkaCluster

LEADER_POLL_SECONDS = 0.25
LEADER_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 60.0


async def busiest_partition(cluster: KafkaCluster, topic: str) -> tuple[int, int]:
    """Find the partition of ``topic`` holding the most records, and how many it holds."""
    partitions = [TopicPartition(topic, p.partition) for p in await cluster.partitions([topic])]
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap_servers)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    busiest, records = max(ends.items(), key=lambda item: (item[1], -item[0].partition))
    return busiest.partition, records


async def new_leader(cluster: KafkaCluster, topic: str, partition: int, old: int) -> int:
    """Wait until the controller moved ``partition``'s leadership off node ``old``."""
    deadline = time.monotonic() + LEADER_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        state = await cluster.partition(topic, partition)
        if state.leader not in {old, -1} and old not in state.isr:
            return state.leader
        await asyncio.sleep(LEADER_POLL_SECONDS)
    msg = f"{topic}-{partition} still had no leader other than node {old}"
    raise TimeoutError(msg)


async def _kill_busiest_leader(context: DrillContext) -> tuple[int, int, float]:
    """SIGKILL the busiest partition's leader; return it, the partition and the kill time."""
    cluster, topic = context.infra.cluster, context.system.topic
    partition, records = await busiest_partition(cluster, topic)
    victim = await cluster.leader_of(topic, partition)
    context.notes["busiest partition"] = f"{partition} ({records} records when the fault began)"
    killed_at = time.time()
    await asyncio.to_thread(cluster.node(victim).kill)
    context.notes["SIGKILLed"] = f"node {victim}, leader of partition {partition}"
    return victim, partition, killed_at


async def _failover(context: DrillContext, partition: int, victim: int, since: float) -> int:
    """Wait for the new leader of ``partition`` and note who it is and how long it took."""
    leader = await new_leader(context.infra.cluster, context.system.topic, partition, victim)
    context.notes[f"new leader after killing node {victim}"] = (
        f"node {leader}, {time.time() - since:.1f} s after the kill"
    )
    return leader


async def _restart(context: DrillContext, node_id: int) -> None:
    """Start a killed node on its data and ports, then wait until every ISR is full again."""
    cluster = context.infra.cluster
    started = time.time()
    await asyncio.to_thread(cluster.node(node_id).start)
    in_sync = await cluster.wait_fully_replicated()
    context.notes[f"node {node_id} back and every ISR full (s)"] = (
        f"{time.time() - started:.1f} (catch-up {in_sync:.1f})"
    )


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.time()))


async def kill_partition_leader(context: DrillContext) -> FaultWindow:
    """SIGKILL the leader of the busiest partition, restart it ``broker_outage_seconds`` later.

    The window ends when the node is back and has rejoined every ISR: the cluster whole.
    """
    victim, partition, start = await _kill_busiest_leader(context)
    await _failover(context, partition, victim, start)
    await _sleep_until(start + context.settings.broker_outage_seconds)
    await _restart(context, victim)
    return FaultWindow(start, time.time())


async def leave_one_replica(context: DrillContext) -> FaultWindow:
    """Kill the busiest partition's leader, then its new leader: one in-sync replica is left.

    With both nodes down the third is the only replica able to take writes, and the
    controller quorum (two of three) is gone with them, so no write can reach
    ``min.insync.replicas=2``. It lasts ``single_replica_seconds``; then the second node
    returns (quorum and ISR of two), then the first. The window is the one-replica time.
    """
    first, partition, killed_at = await _kill_busiest_leader(context)
    second = await _failover(context, partition, first, killed_at)
    start = time.time()
    await asyncio.to_thread(context.infra.cluster.node(second).kill)
    survivor = ({*context.infra.cluster.nodes} - {first, second}).pop()
    context.notes["then SIGKILLed"] = f"node {second}; node {survivor} is the only replica left"
    await asyncio.sleep(context.settings.single_replica_seconds)
    returned = time.time()
    await asyncio.to_thread(context.infra.cluster.node(second).start)
    context.notes["one replica left for (s)"] = f"{time.time() - start:.1f}"
    context.notes["second node serving again after (s)"] = f"{time.time() - returned:.1f}"
    window = FaultWindow(start, time.time())
    await _restart(context, first)
    return window


async def rolling_restart_brokers(context: DrillContext) -> FaultWindow:
    """SIGTERM each node in turn, start it again, and wait for every ISR before the next.

    What an operator does for an upgrade: one node at a time, never two replicas of a
    partition away at once, so ``acks=all`` writes keep their two in-sync replicas.
    """
    cluster = context.infra.cluster
    start = time.time()
    statuses = []
    for node_id, node in cluster.nodes.items():
        stopping = time.time()
        status = await asyncio.to_thread(node.stop, STOP_TIMEOUT_SECONDS)
        statuses.append(f"node {node_id}={status} in {time.time() - stopping:.1f}s")
        await _restart(context, node_id)
    context.notes["controlled shutdowns (exit status)"] = ", ".join(statuses)
    return FaultWindow(start, time.time())
