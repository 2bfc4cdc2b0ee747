"""Running a drill: traffic, the fault, settling, and the match of codes against mails.

The order is fixed: start the drill's system, start sampling and traffic, inject the
fault at its time, wait for the last answer, wait (bounded) until every accepted
address has mail and the sink has been quiet for a while, then count.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING

from drills.faults import DrillContext, FaultWindow
from drills.infrastructure import Infrastructure
from drills.log_evidence import failure_notes, logged_kafka_failures
from drills.matcher import (
    MatchResult,
    StoredCode,
    delivered_addresses,
    mailed_codes,
    match,
)
from drills.sampler import MetricsSampler, max_lag
from drills.system import SystemUnderDrill, start_system
from drills.traffic import Attempt, TrafficDriver, outcomes
from drills.verdicts import Evidence, basic_failures, longest_wait, time_to_recover

if TYPE_CHECKING:
    from drills.scenarios import Drill
    from drills.settings import DrillSettings

POLL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class DrillOutcome:
    """One row of the report, with the reasons a drill failed and what else it noticed."""

    number: int
    title: str
    requested: int
    mailed: int
    duplicates: int
    lost: int
    max_lag_seconds: float
    recover_seconds: float | None
    failures: tuple[str, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every rule of the drill held."""
        return not self.failures


AfterDrill = Callable[[SystemUnderDrill, DrillOutcome], Awaitable[None]]


async def run_drill(
    drill: Drill,
    infra: Infrastructure,
    settings: DrillSettings,
    after: AfterDrill | None = None,
) -> DrillOutcome:
    """Run one drill on fresh processes; ``after`` sees the system before it is stopped."""
    await infra.ensure_running()
    system = await start_system(drill.number, drill.layout, infra, settings)
    try:
        outcome = await _exercise(drill, system, infra, settings)
        if after is not None:
            await after(system, outcome)
    finally:
        await system.stop()
    return outcome


async def _exercise(
    drill: Drill, system: SystemUnderDrill, infra: Infrastructure, settings: DrillSettings
) -> DrillOutcome:
    drill.prepare(system)
    context = DrillContext(system, infra, settings)
    keep = settings.telemetry is not None
    sampler = MetricsSampler(system, settings.sample_interval_seconds, keep_scrapes=keep)
    driver = TrafficDriver(
        system.router, system.address, settings.rate_per_second, settings.total_requests
    )
    async with asyncio.TaskGroup() as group:
        group.create_task(sampler.run())
        traffic = group.create_task(driver.run())
        await asyncio.sleep(settings.fault_at_seconds)
        window = await drill.inject(context)
        attempts = await traffic
        await _settle(system, {a.address for a in attempts if a.accepted}, settings)
        sampler.stop()
    evidence = await _evidence(
        system=system,
        settings=settings,
        window=window,
        attempts=attempts,
        sampler=sampler,
        notes=context.notes,
    )
    return _judge(drill, evidence)


async def _settle(system: SystemUnderDrill, accepted: set[str], settings: DrillSettings) -> None:
    """Wait until every accepted address has mail (bounded), then until the sink is quiet."""
    deadline = time.monotonic() + settings.settle_timeout_seconds
    while time.monotonic() < deadline and not accepted <= delivered_addresses(system.sink):  # noqa: ASYNC110 -- the sink runs in another thread
        await asyncio.sleep(POLL_SECONDS)
    quiet_since, seen = time.monotonic(), len(system.sink.deliveries())
    while time.monotonic() - quiet_since < settings.quiet_seconds:
        await asyncio.sleep(POLL_SECONDS)
        if len(system.sink.deliveries()) != seen:
            quiet_since, seen = time.monotonic(), len(system.sink.deliveries())
        if time.monotonic() > deadline + settings.quiet_seconds:
            return


async def _evidence(  # noqa: PLR0913 -- everything the drill measured, gathered in one place
    *,
    system: SystemUnderDrill,
    settings: DrillSettings,
    window: FaultWindow,
    attempts: Sequence[Attempt],
    sampler: MetricsSampler,
    notes: dict[str, str],
) -> Evidence:
    rows = await system.sql("SELECT email, purpose, code_hash FROM otp_codes")
    stored = [StoredCode(email, purpose, code_hash) for email, purpose, code_hash in rows]
    mails = await asyncio.to_thread(mailed_codes, system.sink)
    accepted = [attempt.address for attempt in attempts if attempt.accepted]
    result: MatchResult = match(accepted, mails, stored, system.otp_secret)
    refused = {k: v for k, v in outcomes(attempts).items() if k != "202"}
    if refused:
        notes["not accepted"] = ", ".join(f"{k}: {v}" for k, v in sorted(refused.items()))
    if result.unrequested_mailed:
        notes["mailed to unacknowledged requests"] = str(result.unrequested_mailed)
    notes |= failure_notes(await asyncio.to_thread(logged_kafka_failures, system.replicas()))
    return Evidence(
        settings=settings,
        window=window,
        attempts=attempts,
        result=result,
        samples=list(sampler.samples),
        notes=notes,
        unpublished_at_end=await system.pending_outbox(),
        movies_samples=list(sampler.movies_samples),
    )


def _judge(drill: Drill, evidence: Evidence) -> DrillOutcome:
    notes = dict(evidence.notes)
    failures = basic_failures(evidence, drill.duplicate_bound(evidence.settings))
    for check in drill.checks:
        failures += check(evidence, notes)
    notes["duplicate bound"] = str(drill.duplicate_bound(evidence.settings))
    notes["longest wait from 202 to mail (s)"] = f"{longest_wait(evidence):.1f}"
    result = evidence.result
    return DrillOutcome(
        number=drill.number,
        title=drill.title,
        requested=result.requested,
        mailed=result.mailed,
        duplicates=result.duplicates,
        lost=result.lost,
        max_lag_seconds=max_lag(evidence.samples),
        recover_seconds=time_to_recover(evidence),
        failures=tuple(failures),
        notes=notes,
    )


def broken(drill: Drill, error: BaseException) -> DrillOutcome:
    """Report a drill the harness could not finish (a server did not come back…)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = f"{type(error).__name__}: {error}"
    notes = {"harness error": text}
    reason = f"harness: {text.splitlines()[0]}"
    return DrillOutcome(drill.number, drill.title, 0, 0, 0, 0, 0.0, None, (reason,), notes)


async def run_suite(
    drills: Sequence[Drill],
    settings: DrillSettings,
    report: Callable[[DrillOutcome], None],
) -> list[DrillOutcome]:
    """Run the drills in order, ``report`` each outcome at once.

    The single-broker drills share one broker and PostgreSQL, the cluster drills one
    three-node cluster and PostgreSQL; each set's servers run only while it does.
    """
    outcomes_: list[DrillOutcome] = []
    for cluster, group in groupby(drills, key=lambda drill: drill.cluster):
        workdir = settings.workdir / ("cluster" if cluster else "single")
        outcomes_ += await _run_on(
            list(group), Infrastructure(workdir, cluster=cluster), settings, report
        )
    return outcomes_


async def _run_on(
    drills: Sequence[Drill],
    infra: Infrastructure,
    settings: DrillSettings,
    report: Callable[[DrillOutcome], None],
) -> list[DrillOutcome]:
    """Start ``infra``, run each drill on it, stop it."""
    await infra.start()
    outcomes_: list[DrillOutcome] = []
    try:
        for drill in drills:
            try:
                outcome = await run_drill(drill, infra, settings)
            except Exception as exc:  # noqa: BLE001 -- one broken drill must not hide the rest
                outcome = broken(drill, exc)
            report(outcome)
            outcomes_.append(outcome)
    finally:
        await infra.stop()
    return outcomes_
