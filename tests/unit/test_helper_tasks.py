"""HelperTasks: a helper that dies stops the consumer, loudly; a clean stop says nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from structlog.testing import capture_logs

from mailer.helper_tasks import HelperBody, HelperTaskDiedError, HelperTasks


async def _runs_until_closing(closing: asyncio.Event) -> None:
    await closing.wait()


async def _dies(closing: asyncio.Event) -> None:
    del closing
    await asyncio.sleep(0)
    partition = "mail.otp.v1-0"
    raise KeyError(partition)


async def _ignores_closing(closing: asyncio.Event) -> None:
    del closing
    await asyncio.sleep(3600)


async def _returns_early(closing: asyncio.Event) -> None:
    del closing


async def _until_stopped(**bodies: HelperBody) -> tuple[HelperTasks, list[dict[str, Any]]]:
    """Start ``bodies`` and wait, as the consumer would, until one of them stops it."""
    stopping = asyncio.Event()
    helpers = HelperTasks(stopping)
    with capture_logs() as logs:
        for name, body in bodies.items():
            helpers.start(name, body)
        async with asyncio.timeout(5):
            await stopping.wait()
        await helpers.stop(1.0)
    return helpers, logs


async def test_a_dying_helper_sets_stopping_logs_an_error_and_is_raised() -> None:
    helpers, logs = await _until_stopped(lag=_runs_until_closing, committer=_dies)
    [error] = [entry for entry in logs if entry["log_level"] == "error"]
    assert error["task"] == "committer"
    assert isinstance(error["exc_info"], KeyError)
    with pytest.raises(HelperTaskDiedError, match="committer") as raised:
        helpers.raise_if_died()
    assert isinstance(raised.value.__cause__, KeyError)


async def test_a_helper_returning_while_needed_counts_as_dead() -> None:
    helpers, _ = await _until_stopped(lag=_returns_early)
    with pytest.raises(HelperTaskDiedError, match="lag"):
        helpers.raise_if_died()


async def test_a_clean_stop_is_not_a_death_and_stuck_helpers_are_cancelled() -> None:
    stopping = asyncio.Event()
    helpers = HelperTasks(stopping)
    with capture_logs() as logs:
        helpers.start("committer", _runs_until_closing)
        helpers.start("lag", _ignores_closing)
        await asyncio.sleep(0)
        await helpers.stop(0.05)
    assert not stopping.is_set()
    assert [entry for entry in logs if entry["log_level"] == "error"] == []
    helpers.raise_if_died()
