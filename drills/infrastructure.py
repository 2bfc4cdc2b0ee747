"""The Kafka and the database server every drill of a run shares, and that drills break.

Drills SIGKILL brokers and restart PostgreSQL, so both are always our own: a broker
named in ``KAFKA_BOOTSTRAP_SERVERS`` (the test session's, or a developer's) is ignored.
The Kafka is a single broker for drills 1 to 7 and a three-node cluster for the cluster
drills; both are started and probed by the same devstack code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING

from devstack.errors import HarnessError
from devstack.kafka_broker import EXTERNAL_ENV, KafkaBroker
from devstack.kafka_cluster import KafkaCluster
from devstack.postgres import PostgresServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CLUSTER_READY_TIMEOUT_SECONDS = 180.0


@contextlib.contextmanager
def _without_external_broker() -> Iterator[None]:
    """Hide ``KAFKA_BOOTSTRAP_SERVERS`` while the broker harness reads it."""
    saved = os.environ.pop(EXTERNAL_ENV, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[EXTERNAL_ENV] = saved


class Infrastructure:
    """One Kafka (a broker, or a cluster) and one PostgreSQL server, started once per suite."""

    def __init__(self, workdir: Path, *, cluster: bool = False) -> None:
        """Prepare both servers under ``workdir``; :meth:`start` runs them."""
        self.kafka: KafkaBroker | KafkaCluster
        if cluster:
            self.kafka = KafkaCluster(workdir / "kafka-cluster")
        else:
            with _without_external_broker():
                self.kafka = KafkaBroker(workdir / "kafka", heap_mb=512)
        self.postgres = PostgresServer()

    @property
    def broker(self) -> KafkaBroker:
        """The single broker of drills 1 to 7."""
        if not isinstance(self.kafka, KafkaBroker):
            msg = "this drill needs the single broker, and the suite runs a cluster"
            raise HarnessError(msg)
        return self.kafka

    @property
    def cluster(self) -> KafkaCluster:
        """The three-node cluster of the cluster drills."""
        if not isinstance(self.kafka, KafkaCluster):
            msg = "this drill needs the three-node cluster, and the suite runs a single broker"
            raise HarnessError(msg)
        return self.kafka

    async def start(self) -> None:
        """Start PostgreSQL and Kafka (their harnesses block, so in threads)."""
        await asyncio.gather(
            asyncio.to_thread(self.postgres.start),
            asyncio.to_thread(self.kafka.start),
        )

    async def ensure_running(self) -> None:
        """Bring back a server an earlier, failed drill left down; a cluster fully in sync."""
        if not self.kafka.is_running():
            await asyncio.to_thread(self.kafka.start)
        if isinstance(self.kafka, KafkaCluster):
            await self.kafka.wait_fully_replicated(CLUSTER_READY_TIMEOUT_SECONDS)
        if not self.postgres.is_running():
            await asyncio.to_thread(self.postgres.start)

    async def create_database(self, name: str) -> str:
        """Create an empty database for one drill and return its URL."""
        return await asyncio.to_thread(self.postgres.create_database, name)

    async def stop(self) -> None:
        """Stop both servers and delete PostgreSQL's temporary directory."""
        await asyncio.to_thread(self.kafka.stop)
        await asyncio.to_thread(self.postgres.cleanup)

    def log_paths(self) -> list[Path]:
        """List the servers' own log files, which the secrets audit reads too."""
        return [*self.kafka.log_paths(), self.postgres.log_path]
