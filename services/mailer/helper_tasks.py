"""The consumer's helper tasks (committer, lag gauges), supervised.

A helper that dies while the consumer runs would otherwise go unnoticed: with the
committer gone, mails keep going out and no offset is committed again, so the next
restart resends all of them. A helper's death is logged as an error and stops the
consumer, which drains, commits what it can and exits non-zero for the orchestrator
to restart it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)
HelperBody = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class HelperTaskDiedError(RuntimeError):
    """A helper task ended while the consumer still needed it."""

    def __init__(self, name: str) -> None:
        """Name the helper; the cause is chained."""
        super().__init__(f"the {name} task died")
        self.name = name


class HelperTasks:
    """Runs helpers until :meth:`stop`; the first to die sets ``stopping``."""

    def __init__(self, stopping: asyncio.Event) -> None:
        """Set the consumer's own ``stopping`` when a helper dies."""
        self._stopping = stopping
        self.closing = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.died: HelperTaskDiedError | None = None

    def start(self, name: str, body: HelperBody) -> None:
        """Run ``body(closing)`` as a task called ``name``, watched from now on."""
        task = asyncio.create_task(body(self.closing), name=name)
        task.add_done_callback(self._ended)
        self._tasks.append(task)

    async def stop(self, grace_seconds: float) -> None:
        """Ask every helper to finish, wait up to ``grace_seconds``, cancel the rest."""
        self.closing.set()
        if not self._tasks:
            return
        _, stuck = await asyncio.wait(self._tasks, timeout=grace_seconds)
        for task in stuck:
            task.cancel()
        if stuck:
            await asyncio.wait(stuck)

    def raise_if_died(self) -> None:
        """Raise :class:`HelperTaskDiedError` if a helper died before :meth:`stop`."""
        if self.died is not None:
            raise self.died

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self.closing.is_set() or self.died is not None:
            return
        cause = None if task.cancelled() else task.exception()
        self.died = HelperTaskDiedError(task.get_name())
        self.died.__cause__ = cause
        log.error("helper task died; stopping the mailer", task=task.get_name(), exc_info=cause)
        self._stopping.set()
