"""A single-node Apache Kafka broker (KRaft, broker+controller) run with ``java`` on loopback.

Used by the pytest session fixture, by ``make run`` and by the benchmarks. When
``KAFKA_BOOTSTRAP_SERVERS`` is set, nothing is started and that broker is used instead.
It is one :class:`devstack.kafka_node.KafkaNode` voting for itself, with replication 1.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Final

import structlog

from devstack import kafka_admin
from devstack.kafka_node import (
    STANDALONE,
    KafkaNode,
    NodePorts,
    NodeSpec,
    new_cluster_id,
    quorum_voters,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

log = structlog.get_logger(__name__)

EXTERNAL_ENV: Final = "KAFKA_BOOTSTRAP_SERVERS"
NODE_ID: Final = 1


class KafkaBroker:
    """Start, stop, kill and restart one local broker whose data survives restarts."""

    def __init__(self, workdir: Path, *, heap_mb: int = 512, cluster_id: str | None = None) -> None:
        """Prepare a broker living in ``workdir``; nothing runs until :meth:`start`."""
        self.workdir = workdir
        self.cluster_id = cluster_id or new_cluster_id()
        ports = NodePorts.free()
        spec = NodeSpec(
            node_id=NODE_ID,
            ports=ports,
            voters=quorum_voters([(NODE_ID, ports)]),
            cluster_id=self.cluster_id,
            replication=STANDALONE,
            heap_mb=heap_mb,
        )
        self.node = KafkaNode(workdir, spec)
        self.log_path = self.node.log_path
        self._external = os.environ.get(EXTERNAL_ENV, "").strip()
        self.cold_start_seconds: float | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` clients connect to."""
        return self._external or self.node.address

    @property
    def is_external(self) -> bool:
        """True when an existing broker was named in ``KAFKA_BOOTSTRAP_SERVERS``."""
        return bool(self._external)

    def start(self, timeout: float = 90.0) -> float:
        """Start the broker (resolving jars on first use) and return seconds until ready."""
        started = time.monotonic()
        if self._external:
            kafka_admin.wait_for_metadata(self._external, started + timeout)
        else:
            self.node.start(timeout)
        elapsed = time.monotonic() - started
        self.cold_start_seconds = self.cold_start_seconds or elapsed
        log.info("kafka broker ready", bootstrap=self.bootstrap_servers, seconds=round(elapsed, 2))
        return elapsed

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL if the broker has not exited by the deadline."""
        self.node.stop(timeout)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would; :meth:`start` brings it back with its data."""
        self.node.kill()

    def is_running(self) -> bool:
        """Whether the broker process we started is still alive."""
        return self.node.is_running()

    def log_tail(self, lines: int = 80) -> str:
        """Return the end of the broker log, for a failing test to print."""
        return self.node.log_tail(lines)

    def log_paths(self) -> list[Path]:
        """List the broker's own log file, which audits read too."""
        return [self.log_path]

    def create_topics(self, partitions: Mapping[str, int]) -> None:
        """Create topics with the given partition counts; existing ones are left alone."""
        asyncio.run(self.create_topics_async(partitions))

    async def create_topics_async(self, partitions: Mapping[str, int]) -> None:
        """Async form of :meth:`create_topics`, for callers already inside an event loop."""
        await kafka_admin.create_topics(self.bootstrap_servers, partitions, STANDALONE)
