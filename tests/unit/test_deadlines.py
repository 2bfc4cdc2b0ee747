import asyncio

import pytest

from pacing import wait_event


async def test_an_event_set_in_time_is_reported_set() -> None:
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5.0)


async def test_an_event_not_set_by_the_deadline_is_reported_unset() -> None:
    assert not await wait_event(asyncio.Event(), 0.01)


async def test_waiting_on_a_set_event_still_lets_other_tasks_run() -> None:
    event, ran = asyncio.Event(), []
    event.set()

    async def other() -> None:
        ran.append(True)

    task = asyncio.create_task(other())
    assert await wait_event(event, 1.0)
    assert ran == [True]
    await task


async def test_a_cancelled_wait_is_cancelled_even_when_the_event_is_set_at_once() -> None:
    # The race asyncio.wait_for has on 3.11: the event is set in the same loop turn
    # as the cancel lands. The waiter must still end cancelled, not return True.
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(event, 60.0))
    await asyncio.sleep(0.01)
    event.set()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert waiter.cancelled()
