"""Waking the relay of every replica when any of them commits an outbox row (PostgreSQL).

``issue_code()`` (migration 0002) sends ``NOTIFY movies_outbox``, which PostgreSQL
delivers when the transaction commits, to every session that LISTENs. Each relay keeps
one pooled connection listening and sets its wakeup event on each notification, so a
row written by any replica is claimed (``SKIP LOCKED``) at once by whichever relay gets
there first; the relay's poll stays only as the safety net for a lost connection.

While the listening connection is down the listener retries with backoff and, once
listening again, wakes the relay once for rows committed in between.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

import asyncpg
import structlog
from sqlalchemy.exc import SQLAlchemyError

from movies.platform import metrics
from pacing import Backoff, FailureStreak, wait_event

if TYPE_CHECKING:
    from movies.platform.database import Database

CHANNEL: Final = "movies_outbox"
_RETRYABLE = (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
log = structlog.get_logger(__name__)


class CommitListener:
    """LISTENs on :data:`CHANNEL` and sets ``wakeup`` for every commit of an outbox row."""

    def __init__(self, database: Database, wakeup: asyncio.Event, retry: Backoff) -> None:
        """Wire the listener; :meth:`start` launches its task."""
        self._database = database
        self._wakeup = wakeup
        self._retry = FailureStreak(retry)
        self._stopping = asyncio.Event()
        self._listening = False
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """Whether notifications reach the relay right now."""
        return self._listening

    def start(self) -> None:
        """Launch the listening task on the running loop."""
        self._task = asyncio.create_task(self._run(), name="outbox-commit-listener")

    async def stop(self) -> None:
        """Stop listening and give the connection back."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._listen_until_lost()
            except _RETRYABLE as exc:
                delay = round(self._retry.next_delay(), 2)
                log.warning("outbox listener waiting", error=type(exc).__name__, retry_in=delay)
                await wait_event(self._stopping, delay)

    async def _listen_until_lost(self) -> None:
        async with self._database.engine.connect() as connection:
            pooled = await connection.get_raw_connection()
            driver: asyncpg.Connection = pooled.driver_connection
            lost = asyncio.Event()

            def on_termination(_connection: object) -> None:
                lost.set()

            driver.add_termination_listener(on_termination)
            try:
                await driver.add_listener(CHANNEL, self._notified)
                await self._until_stopped_or(lost)
            finally:
                driver.remove_termination_listener(on_termination)
            if lost.is_set():
                await connection.invalidate()
                log.warning("outbox listener lost its connection")
                return
            await driver.remove_listener(CHANNEL, self._notified)

    async def _until_stopped_or(self, lost: asyncio.Event) -> None:
        self._set_listening(listening=True)
        self._retry.reset()
        self._wakeup.set()  # rows committed while nobody listened
        try:
            await _first_of(self._stopping, lost)
        finally:
            self._set_listening(listening=False)

    def _notified(self, _connection: object, _pid: int, _channel: str, _payload: object) -> None:
        metrics.OUTBOX_NOTIFICATIONS.inc()
        self._wakeup.set()

    def _set_listening(self, *, listening: bool) -> None:
        self._listening = listening
        metrics.OUTBOX_LISTENING.set(1 if listening else 0)


async def _first_of(*events: asyncio.Event) -> None:
    """Return once any of ``events`` is set."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
