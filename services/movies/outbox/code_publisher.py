"""The Kafka producer the outbox relay publishes through: idempotent, ``acks=all``, bounded.

It connects lazily and reconnects by being rebuilt, so the service starts, serves and
accepts sign-in requests while the broker is away; the relay retries with backoff.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

if TYPE_CHECKING:
    from envsettings import KafkaConnection

CLIENT_ID = "movies"


class CodePublisher:
    """One producer per process; :meth:`ensure_started` (re)connects it when needed."""

    def __init__(self, kafka: KafkaConnection, request_timeout_ms: int) -> None:
        """Remember how to connect; nothing happens until the relay needs the broker."""
        self._kafka = kafka
        self._request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        """Whether a connected producer exists."""
        return self._producer is not None

    async def ensure_started(self) -> AIOKafkaProducer:
        """Return the connected producer, connecting (bounded by the request timeout) first."""
        if self._producer is not None:
            return self._producer
        producer = AIOKafkaProducer(
            **self._kafka.producer_options(CLIENT_ID, request_timeout_ms=self._request_timeout_ms)
        )
        try:
            async with asyncio.timeout(self._request_timeout_ms / 1000):
                await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer
        return producer

    async def send(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        headers: list[tuple[str, bytes]],
    ) -> asyncio.Future[object]:
        """Queue one record; the returned future resolves once the broker acknowledged it."""
        producer = await self.ensure_started()
        future: asyncio.Future[object] = await producer.send(
            topic, value=value, key=key, headers=headers
        )
        return future

    async def metadata_reachable(self, timeout: float) -> bool:  # noqa: ASYNC109 -- a readiness probe owns its deadline
        """Whether the cluster answers a metadata request within ``timeout`` seconds."""
        producer = self._producer
        if producer is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                await producer.client.fetch_all_metadata()
        except (KafkaError, OSError, TimeoutError):
            return False
        return True

    async def stop(self) -> None:
        """Flush what was queued and disconnect."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
