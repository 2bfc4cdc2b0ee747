"""Readiness: unready when this pod cannot work; a relay outage shows, but is not that."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import pytest
from prometheus_client import REGISTRY

from mailer.readiness import Readiness
from mailer.relay_health import ConnectionFailure


@dataclass
class Relay:
    failure: ConnectionFailure | None = None

    async def check(self) -> ConnectionFailure | None:
        return self.failure


@dataclass
class Consumer:
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    joined: bool = True
    smtp: Relay = field(default_factory=Relay)


@pytest.mark.parametrize(
    ("failure", "status", "reason"),
    [
        (None, "ready", None),
        (ConnectionFailure.UNREACHABLE, "ready", None),
        (ConnectionFailure.TIMEOUT, "ready", None),
        (ConnectionFailure.TLS_FAILED, "ready", None),
        (ConnectionFailure.AUTH_REJECTED, "not ready", "smtp relay rejects our credentials"),
        (
            ConnectionFailure.GREETING_REFUSED,
            "not ready",
            "smtp relay refuses our connection (greeting or EHLO)",
        ),
    ],
)
async def test_only_a_relay_refusing_this_pod_makes_it_unready(
    failure: ConnectionFailure | None, status: str, reason: str | None
) -> None:
    consumer = Consumer(smtp=Relay(failure))
    verdict = await Readiness(consumer, 1.0).verdict()  # type: ignore[arg-type]
    body = json.loads(verdict.body())
    assert body["status"] == status
    assert body.get("reason") == reason
    assert body["smtp"] == (failure.value if failure else "ok")
    assert REGISTRY.get_sample_value("mailer_ready") == (1 if reason is None else 0)


async def test_not_joined_or_shutting_down_is_unready_whatever_the_relay() -> None:
    consumer = Consumer(joined=False)
    readiness = Readiness(consumer, 1.0)  # type: ignore[arg-type]
    assert (await readiness.verdict()).reason == "consumer group not joined yet"
    consumer.joined = True
    consumer.stopping.set()
    assert (await readiness.verdict()).reason == "shutting down"


async def test_the_gauge_is_refreshed_without_anyone_asking() -> None:
    consumer = Consumer(smtp=Relay(ConnectionFailure.AUTH_REJECTED))
    closing = asyncio.Event()
    refresher = asyncio.create_task(Readiness(consumer, 0.01).run(closing))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert REGISTRY.get_sample_value("mailer_ready") == 0
    consumer.smtp.failure = None
    await asyncio.sleep(0.05)
    assert REGISTRY.get_sample_value("mailer_ready") == 1
    closing.set()
    async with asyncio.timeout(1):
        await refresher
