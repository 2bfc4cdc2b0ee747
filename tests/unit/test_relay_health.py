"""RelayHealth: while the relay fails, one probe at a time tries it, and a success frees all."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import REGISTRY

from mailer.relay_health import ConnectionFailure, RelayHealth

AUTH = ConnectionFailure.AUTH_REJECTED
DOWN = ConnectionFailure.UNREACHABLE


def _sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def _health(delay: float = 0.05, *, answered: bool = False) -> RelayHealth:
    health = RelayHealth(lambda _failures: delay)
    if answered:
        health.answered()
    return health


def test_a_relay_not_heard_from_yet_is_tried_one_send_at_a_time() -> None:
    health = _health()
    first = health.try_turn()
    assert health.holds(first)
    assert health.try_turn() is None, "the others wait for the first verdict"
    health.answered()
    turns = [health.try_turn() for _ in range(10)]
    assert all(health.holds(turn) for turn in turns), "a relay that answered: all at once"
    assert not health.holds(None)


def test_a_failing_relay_gives_one_probe_turn_when_due() -> None:
    health = _health(delay=0.05, answered=True)
    before = health.try_turn()
    health.failed(AUTH, "535 5.7.8 bad credentials")
    assert not health.holds(before), "a turn taken before the failure no longer holds"
    assert health.try_turn() is None, "not due yet"
    time.sleep(0.06)
    probe = health.try_turn()
    assert probe is not None
    assert health.holds(probe)
    assert health.try_turn() is None, "one probe at a time"
    health.end_turn(probe)  # ended without a verdict: another may probe
    assert health.try_turn() is not None


def test_each_failure_in_a_row_waits_the_next_backoff_step() -> None:
    steps: list[int] = []
    health = RelayHealth(lambda failures: steps.append(failures) or 0.0)
    for _ in range(3):
        health.failed(DOWN, "connection refused")
    assert steps == [1, 2, 3]
    health.answered()
    health.failed(DOWN, "connection refused")
    assert steps == [1, 2, 3, 1], "a success starts the backoff over"


def test_the_metrics_follow_the_failures() -> None:
    health = _health()
    auth_before = _sample("mailer_smtp_connection_failures_total", reason="auth_rejected")
    health.failed(AUTH, "535")
    assert _sample("mailer_smtp_credentials_rejected") == 1
    assert health.rejected
    health.failed(DOWN, "refused")  # the relay went away: not a credential problem now
    assert _sample("mailer_smtp_credentials_rejected") == 0
    assert not health.rejected
    health.failed(AUTH, "535")
    health.answered()
    assert _sample("mailer_smtp_credentials_rejected") == 0
    assert health.failure is None
    after = _sample("mailer_smtp_connection_failures_total", reason="auth_rejected")
    assert after - auth_before == 2


async def test_waiting_sends_go_at_once_when_the_probe_succeeds() -> None:
    health = _health(delay=60.0)
    health.failed(AUTH, "535")
    stopping = asyncio.Event()
    waiters = [asyncio.create_task(health.admit(stopping, patience=30)) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert not any(waiter.done() for waiter in waiters)
    started = time.monotonic()
    health.answered()
    turns = await asyncio.gather(*waiters)
    assert time.monotonic() - started < 1.0
    assert all(health.holds(turn) for turn in turns)


async def test_admission_gives_up_after_its_patience_or_at_shutdown() -> None:
    health = _health(delay=60.0)
    health.failed(DOWN, "refused")
    stopping = asyncio.Event()
    assert await health.admit(stopping, patience=0.05) is None
    waiter = asyncio.create_task(health.admit(stopping, patience=30))
    await asyncio.sleep(0.05)
    stopping.set()
    async with asyncio.timeout(2):
        admitted = await waiter
    assert admitted is None


async def test_only_one_of_many_waiters_probes_a_due_relay() -> None:
    health = _health(delay=0.05)
    health.failed(DOWN, "refused")
    stopping = asyncio.Event()
    waiters = [asyncio.create_task(health.admit(stopping, patience=5)) for _ in range(8)]
    done, pending = await asyncio.wait(waiters, timeout=1, return_when=asyncio.FIRST_COMPLETED)
    [probe] = [task.result() for task in done]
    await asyncio.sleep(0.1)  # due again by now, but the probe's turn is still out
    assert not any(task.done() for task in pending)
    health.failed(DOWN, "still refused")  # the probe failed: one more waiter, once due
    done_again, pending = await asyncio.wait(pending, timeout=1, return_when="FIRST_COMPLETED")
    assert len(done_again) == 1
    assert not health.holds(probe)
    health.answered()
    assert all(health.holds(turn) for turn in await asyncio.gather(*pending))
