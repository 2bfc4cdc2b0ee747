"""The broker and the database server every drill of a run shares, and that drills break.

Drills SIGKILL the broker and restart PostgreSQL, so both are always our own: a broker
named in ``KAFKA_BOOTSTRAP_SERVERS`` (the test session's, or a developer's) is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from devstack.kafka_broker import EXTERNAL_ENV, KafkaBroker
from devstack.postgres import PostgresServer


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
    """One Kafka broker and one PostgreSQL server, started once for a whole suite."""

    def __init__(self, workdir: Path) -> None:
        """Prepare both servers under ``workdir``; :meth:`start` runs them."""
        with _without_external_broker():
            self.broker = KafkaBroker(workdir / "kafka", heap_mb=512)
        self.postgres = PostgresServer()

    async def start(self) -> None:
        """Start PostgreSQL and the broker (their harnesses block, so in threads)."""
        await asyncio.gather(
            asyncio.to_thread(self.postgres.start),
            asyncio.to_thread(self.broker.start),
        )

    async def create_database(self, name: str) -> str:
        """Create an empty database for one drill and return its URL."""
        return await asyncio.to_thread(self.postgres.create_database, name)

    async def stop(self) -> None:
        """Stop both servers and delete PostgreSQL's temporary directory."""
        await asyncio.to_thread(self.broker.stop)
        await asyncio.to_thread(self.postgres.cleanup)

    def log_paths(self) -> list[Path]:
        """List the servers' own log files, which the secrets audit reads too."""
        return [self.broker.log_path, self.postgres.log_path]
