"""A three-node Apache Kafka cluster (KRaft, every node broker+controller) on loopback.

The shape users run when one machine is not enough: a controller quorum of the three
nodes, one shared cluster id, replication factor 3 and ``min.insync.replicas=2`` for
every topic, the internal ones included. A write acknowledged with ``acks=all`` is then
on two nodes at least, and the cluster keeps serving with any one node down. Each node
can be stopped, SIGKILLed and started again on its own data and ports, and the metadata
says which node leads a partition and which replicas are in sync. The drills use it.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

import structlog
from aiokafka.errors import KafkaError

from devstack import kafka_admin
from devstack.errors import HarnessError
from devstack.kafka_node import KafkaNode, NodePorts, NodeSpec, Replication, new_cluster_id
from devstack.kafka_node import quorum_voters as voters_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from devstack.kafka_admin import PartitionState

log = structlog.get_logger(__name__)

REPLICATED: Final = Replication(factor=3, min_insync=2)
CLUSTER_SIZE: Final = 3
_POLL_SECONDS = 0.5
_METADATA_ATTEMPTS = 5


class KafkaCluster:
    """Three KRaft nodes sharing a cluster id and a controller quorum; always our own."""

    def __init__(self, workdir: Path, *, heap_mb: int = 384, cluster_id: str | None = None) -> None:
        """Choose every node's ports and write nothing yet; :meth:`start` runs the nodes."""
        self.workdir = workdir
        self.cluster_id = cluster_id or new_cluster_id()
        self.replication = REPLICATED
        ports = {node_id: NodePorts.free() for node_id in range(1, CLUSTER_SIZE + 1)}
        voters = voters_of(ports.items())
        self.nodes: dict[int, KafkaNode] = {
            node_id: KafkaNode(
                workdir / f"node-{node_id}",
                NodeSpec(node_id, node_ports, voters, self.cluster_id, REPLICATED, heap_mb),
            )
            for node_id, node_ports in ports.items()
        }

    @property
    def bootstrap_servers(self) -> str:
        """Every node's address, as clients are configured for a cluster."""
        return ",".join(node.address for node in self.nodes.values())

    def node(self, node_id: int) -> KafkaNode:
        """Return the node with this id, to stop, kill or start on its own."""
        try:
            return self.nodes[node_id]
        except KeyError:
            msg = f"the cluster has no node {node_id} (nodes: {sorted(self.nodes)})"
            raise HarnessError(msg) from None

    def start(self, timeout: float = 120.0) -> float:
        """Launch every stopped node together, wait until each is registered; return seconds."""
        started = time.monotonic()
        nodes = list(self.nodes.values())
        with ThreadPoolExecutor(len(nodes)) as pool:  # formatting storage is a JVM run each
            list(pool.map(KafkaNode.launch, nodes))
        for node in nodes:
            node.wait_ready(started + timeout)
        elapsed = time.monotonic() - started
        log.info("kafka cluster ready", bootstrap=self.bootstrap_servers, seconds=round(elapsed, 2))
        return elapsed

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every node at once, then reap each (SIGKILL past the deadline)."""
        for node in self.nodes.values():
            node.terminate()
        for node in self.nodes.values():
            node.reap(timeout)

    def is_running(self) -> bool:
        """Whether every node runs."""
        return all(node.is_running() for node in self.nodes.values())

    def running(self) -> list[int]:
        """List the ids of the nodes whose process is alive."""
        return [node_id for node_id, node in self.nodes.items() if node.is_running()]

    def log_paths(self) -> list[Path]:
        """Every node's log file, which audits read too."""
        return [node.log_path for node in self.nodes.values()]

    def create_topics(self, partitions: Mapping[str, int]) -> None:
        """Create replicated topics with these partition counts; existing ones stay."""
        asyncio.run(self.create_topics_async(partitions))

    async def create_topics_async(self, partitions: Mapping[str, int]) -> None:
        """Async form of :meth:`create_topics`, for callers already inside an event loop."""
        await kafka_admin.create_topics(self.bootstrap_servers, partitions, self.replication)

    async def partitions(self, topics: Sequence[str] | None = None) -> list[PartitionState]:
        """Leader, replicas and ISR of the partitions of ``topics`` (every topic for None).

        Tried a few times: right after a kill the client may pick the dead node, which
        metadata still lists until the controller fences it.
        """
        for _ in range(_METADATA_ATTEMPTS - 1):
            try:
                return await kafka_admin.describe_partitions(self._live_bootstrap(), topics)
            except KafkaError:
                await asyncio.sleep(_POLL_SECONDS)
        return await kafka_admin.describe_partitions(self._live_bootstrap(), topics)

    async def partition(self, topic: str, partition: int) -> PartitionState:
        """One partition's leader, replicas and ISR."""
        for state in await self.partitions([topic]):
            if state.partition == partition:
                return state
        msg = f"{topic} has no partition {partition}"
        raise HarnessError(msg)

    async def topic_settings(self, topic: str) -> dict[str, str]:
        """Return a topic's effective settings, ``min.insync.replicas`` among them."""
        return await kafka_admin.topic_settings(self._live_bootstrap(), topic)

    async def leader_of(self, topic: str, partition: int) -> int:
        """Return the id of the node leading this partition (-1 while it has none)."""
        return (await self.partition(topic, partition)).leader

    async def isr_of(self, topic: str, partition: int) -> tuple[int, ...]:
        """Return the ids of this partition's in-sync replicas."""
        return (await self.partition(topic, partition)).isr

    async def wait_fully_replicated(self, timeout: float = 120.0) -> float:  # noqa: ASYNC109 -- a harness wait with its own deadline and error
        """Wait until no partition of any topic is under-replicated; return the seconds.

        What an operator checks between two steps of a rolling restart: the node that
        came back has caught up and rejoined every ISR.
        """
        started = time.monotonic()
        lagging: list[PartitionState] = []
        while time.monotonic() - started < timeout:
            try:
                lagging = [p for p in await self.partitions() if not p.fully_replicated]
            except (HarnessError, KafkaError, OSError) as exc:
                log.info("cluster metadata unavailable", error=repr(exc))
            else:
                if not lagging:
                    return time.monotonic() - started
            await asyncio.sleep(_POLL_SECONDS)
        shown = ", ".join(f"{p.topic}-{p.partition} isr={list(p.isr)}" for p in lagging[:5])
        msg = f"partitions still under-replicated after {timeout:.0f}s: {shown}"
        raise HarnessError(msg)

    def _live_bootstrap(self) -> str:
        """Only running nodes, so a metadata call does not wait on a dead node's address."""
        live = [node.address for node in self.nodes.values() if node.is_running()]
        if not live:
            msg = "no node of the cluster is running"
            raise HarnessError(msg)
        return ",".join(live)
