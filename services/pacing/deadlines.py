"""Deadlines: bound a wait with ``asyncio.timeout``, never ``asyncio.wait_for``.

On Python 3.11 ``asyncio.wait_for`` can swallow a cancellation that lands as the inner
wait completes (CPython gh-86296): a task cancelled at shutdown then keeps looping and
the process never exits. ``asyncio.timeout`` (new in 3.11) does not have that race, and
it bounds any block of awaits, not one awaitable. So both services bound their waits
with ``async with asyncio.timeout(seconds):``, and wait on events with
:func:`wait_event` below; ruff bans ``asyncio.wait_for`` (pyproject.toml).
"""

from __future__ import annotations

import asyncio
import contextlib


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass; return whether it was set.

    Always yields to the event loop at least once: ``Event.wait`` on a set event returns
    without yielding, and a loop around it would then starve every other task.
    """
    await asyncio.sleep(0)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()
