"""The fault injectors: each breaks one part of the running system and says when it healed.

An injector runs while the traffic flows and returns the fault's window in epoch
seconds; time to recover is measured from the window's end. Blocking harness calls
(the broker, PostgreSQL, process signals) run in threads so the traffic keeps its pace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from drills.infrastructure import Infrastructure
from drills.settings import DrillSettings
from drills.system import SystemUnderDrill


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """When the fault began and when the broken part was whole again."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        """How long the fault lasted."""
        return self.end - self.start


@dataclass
class DrillContext:
    """What an injector may touch, and where it writes what it observed."""

    system: SystemUnderDrill
    infra: Infrastructure
    settings: DrillSettings
    notes: dict[str, str] = field(default_factory=dict)


Injector = Callable[[DrillContext], Awaitable[FaultWindow]]


async def kill_broker(context: DrillContext) -> FaultWindow:
    """SIGKILL the broker, wait, start it again on the same data and ports."""
    broker = context.infra.broker
    start = time.time()
    await asyncio.to_thread(broker.kill)
    await asyncio.sleep(context.settings.broker_outage_seconds)
    await asyncio.to_thread(broker.start)
    window = FaultWindow(start, time.time())
    context.notes["broker down (s)"] = f"{window.seconds:.1f}"
    return window


async def stop_smtp(context: DrillContext) -> FaultWindow:
    """Close the SMTP port (connections refused), then open it again."""
    sink = context.system.sink
    start = time.time()
    await asyncio.to_thread(sink.stop)
    await asyncio.sleep(context.settings.smtp_outage_seconds)
    await asyncio.to_thread(sink.start)
    return FaultWindow(start, time.time())


async def kill_mailer(context: DrillContext) -> FaultWindow:
    """SIGKILL one of two mailer replicas; the other must take over its partitions."""
    victim = context.system.mailers[0]
    context.notes["killed"] = f"{victim.name} (pid {victim.pid})"
    start = time.time()
    await victim.kill()
    return FaultWindow(start, start)


async def kill_movies_with_unpublished_rows(context: DrillContext) -> FaultWindow:
    """SIGKILL the replica holding committed, unpublished outbox rows; restart it later.

    The traffic went to replica B only, whose relay cannot reach the broker, so every
    row B committed is still unpublished when it dies. Traffic then moves to replica A,
    whose relay (woken by its own commits) must publish B's rows too; B comes back
    with the right broker address a few seconds later.
    """
    system = context.system
    victim = system.movies[1]
    start = time.time()
    await victim.kill()
    context.notes["unpublished rows at kill"] = str(await system.pending_outbox())
    system.router.route_to(0)
    await asyncio.sleep(context.settings.movies_restart_after_seconds)
    await victim.start({"KAFKA_BOOTSTRAP_SERVERS": context.infra.kafka.bootstrap_servers})
    system.router.route_to(0, 1)
    context.notes["restarted after (s)"] = f"{time.time() - start:.1f}"
    return FaultWindow(start, start)


async def restart_postgres(context: DrillContext) -> FaultWindow:
    """Stop PostgreSQL (fast shutdown), keep it down, start it again with its data."""
    postgres = context.infra.postgres
    start = time.time()
    await asyncio.to_thread(postgres.stop)
    await asyncio.sleep(context.settings.postgres_outage_seconds)
    await asyncio.to_thread(postgres.start)
    window = FaultWindow(start, time.time())
    context.notes["postgres down (s)"] = f"{window.seconds:.1f}"
    return window


async def rolling_restart_mailers(context: DrillContext) -> FaultWindow:
    """SIGTERM each mailer in turn, waiting until the restarted one has partitions again."""
    start = time.time()
    statuses = []
    for mailer in context.system.mailers:
        statuses.append(f"{mailer.name}={await mailer.stop()}")
        await mailer.start()
    context.notes["exit statuses"] = ", ".join(statuses)
    return FaultWindow(start, time.time())


async def slow_smtp(context: DrillContext) -> FaultWindow:
    """Make the sink answer every recipient slowly for a while, then normally again."""
    policy = context.system.sink.policy
    start = time.time()
    policy.reply_delay_seconds = context.settings.slow_smtp_reply_seconds
    context.notes["reply delay (s)"] = f"{policy.reply_delay_seconds:g}"
    await asyncio.sleep(context.settings.slow_smtp_window_seconds)
    policy.reply_delay_seconds = 0.0
    return FaultWindow(start, time.time())
