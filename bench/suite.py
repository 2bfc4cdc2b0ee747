"""One invocation of every benchmark, on one broker, in one temporary directory.

Order: B1 and B4-mailer (broker and sinks only), B6 (the same through a 20 ms link),
B2 on SQLite (the embedded default), B5 and B4-movies (PostgreSQL, the production path),
B3 (movies on PostgreSQL, mailer and sink together), and last one profiled mailer run.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from bench.api_latency import TARGETS as B3_TARGETS
from bench.api_latency import measure_backend, measure_end_to_end
from bench.figures import Figure
from bench.machine import git_facts, machine_facts
from bench.mailer_runs import MailerBench, unset_inherited_tracing
from bench.mailer_throughput import measure_mailer_tracing_cost, measure_mailers, profile_mailer
from bench.movies_runs import ApiBench, MailArrivals
from bench.prefill import PARTITIONS, fill_topic
from bench.production_path import TARGETS as B5_TARGETS
from bench.production_path import measure_production_path, measure_tracing_cost
from bench.relay_latency import measure_relay_latency
from bench.report import Report
from bench.smtp_servers import SelfSignedCertificate
from devstack import KafkaBroker
from devstack.errors import HarnessError
from devstack.otlp_receiver import OtlpReceiver
from devstack.postgres import PostgresServer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bench.figures import Target
    from bench.plan import Plan

log = structlog.get_logger(__name__)
B1_TOPIC = "bench.b1"
B1_ORIGINAL_TOPIC = "bench.b1.original"
B6_ORIGINAL_TOPIC = "bench.b6.original"
B2_TOPIC = "bench.b2"
B3_TOPIC = "bench.b3"
B5_TOPIC = "bench.b5"


@dataclass
class Environment:
    """The long-lived pieces every benchmark shares."""

    workdir: Path
    broker: KafkaBroker
    receiver: OtlpReceiver
    certificate: SelfSignedCertificate
    postgres: PostgresServer | None
    durable_postgres: PostgresServer | None
    postgres_missing: str

    def mailer_bench(self, topic: str, count: int) -> MailerBench:
        """Build a B1 runner over the backlog in ``topic``."""
        return MailerBench(
            self.broker.bootstrap_servers,
            topic,
            count,
            self.receiver,
            self.certificate,
            self.workdir,
        )

    def api_bench(self, plan: Plan) -> ApiBench:
        """Build a B2/B3 runner."""
        return ApiBench(
            self.broker.bootstrap_servers,
            self.receiver,
            self.workdir,
            self.postgres,
            migrate_first=plan.migrate_first,
            durable_postgres=self.durable_postgres,
        )


def run_suite(plan: Plan, profile_path: Path) -> Report:
    """Run everything and return the report (its figures, the machine, the commit)."""
    unset_inherited_tracing()
    report = Report(plan, machine_facts(), git_facts(), datetime.now(UTC).isoformat())
    started = time.monotonic()
    with _phase(report, "environment"), environment() as env:
        with _phase(report, "b1"):
            report.figures += _mailers(env, plan)
        with _phase(report, "b6"):
            report.figures += _relay_latency(env, plan)
        with _phase(report, "b2"):
            report.figures += _embedded(env, plan)
        with _phase(report, "b5"):
            report.figures += _production_path(env, plan)
        with _phase(report, "b3"):
            report.figures += _end_to_end(env, plan)
        with _phase(report, "profile"):
            profiled = env.mailer_bench(B1_ORIGINAL_TOPIC, plan.b1_baseline_messages)
            report.profile = profile_mailer(profiled, profile_path)
    report.duration_s = time.monotonic() - started
    return report


def run_tracing_cost(plan: Plan) -> Report:
    """Only B4, both halves (``python -m bench --only b4``): what tracing costs a request."""
    unset_inherited_tracing()
    report = Report(plan, machine_facts(), git_facts(), datetime.now(UTC).isoformat())
    started = time.monotonic()
    with _phase(report, "environment"), environment() as env:
        with _phase(report, "b4.mailer"):
            asyncio.run(_fill(env.broker, {B1_TOPIC: plan.b1_messages}))
            ours = env.mailer_bench(B1_TOPIC, plan.b1_messages)
            report.figures += measure_mailer_tracing_cost(ours, plan)
        with _phase(report, "b4.movies"):
            if env.postgres is not None:
                asyncio.run(_fill(env.broker, {B5_TOPIC: 0}))
                report.figures += measure_tracing_cost(env.api_bench(plan), plan, B5_TOPIC)
    report.duration_s = time.monotonic() - started
    return report


def run_production_path(plan: Plan) -> Report:
    """Only B5 and B4's movies half (``python -m bench --only b5``): movies on PostgreSQL."""
    unset_inherited_tracing()
    report = Report(plan, machine_facts(), git_facts(), datetime.now(UTC).isoformat())
    started = time.monotonic()
    with _phase(report, "environment"), environment() as env, _phase(report, "b5"):
        report.figures += _production_path(env, plan)
    report.duration_s = time.monotonic() - started
    return report


def run_profile(plan: Plan, profile_path: Path) -> list[str]:
    """Only the profiled mailer run (``python -m bench --profile``), for a quick look."""
    unset_inherited_tracing()
    with environment() as env:
        asyncio.run(_fill(env.broker, {B1_ORIGINAL_TOPIC: plan.b1_baseline_messages}))
        profiled = env.mailer_bench(B1_ORIGINAL_TOPIC, plan.b1_baseline_messages)
        return profile_mailer(profiled, profile_path)


@contextlib.contextmanager
def _phase(report: Report, name: str) -> Iterator[None]:
    """Time a phase; the JSON keeps the durations, so a slow harness shows where."""
    started = time.monotonic()
    try:
        yield
    finally:
        report.phase_seconds[name] = round(time.monotonic() - started, 1)


@contextlib.contextmanager
def environment() -> Iterator[Environment]:
    """Start the broker, the span receiver and (when installed) PostgreSQL; stop them after."""
    with (
        tempfile.TemporaryDirectory(prefix="reelmail-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        broker = KafkaBroker(workdir / "kafka")
        broker.start()
        stack.callback(broker.stop)
        receiver = OtlpReceiver(keep=False)
        receiver.start()
        stack.callback(receiver.stop)
        postgres, missing = _postgres(stack, fast=True)
        durable, _ = _postgres(stack, fast=False) if postgres else (None, missing)
        certificate = SelfSignedCertificate(workdir)
        yield Environment(workdir, broker, receiver, certificate, postgres, durable, missing)


def _postgres(stack: contextlib.ExitStack, *, fast: bool) -> tuple[PostgresServer | None, str]:
    """Start a server with durability off (``fast``, as the tests run it) or production's."""
    try:
        server = PostgresServer(fast=fast)
        stack.callback(server.cleanup)
        server.start()
    except HarnessError as exc:
        log.warning("postgresql rows will not run", reason=str(exc))
        return None, str(exc).splitlines()[0]
    return server, ""


def _mailers(env: Environment, plan: Plan) -> list[Figure]:
    asyncio.run(
        _fill(
            env.broker, {B1_TOPIC: plan.b1_messages, B1_ORIGINAL_TOPIC: plan.b1_baseline_messages}
        )
    )
    ours = env.mailer_bench(B1_TOPIC, plan.b1_messages)
    original = env.mailer_bench(B1_ORIGINAL_TOPIC, plan.b1_baseline_messages)
    return measure_mailers(ours, original, plan)


def _relay_latency(env: Environment, plan: Plan) -> list[Figure]:
    """B6 on B1's backlogs (already filled) and a small one for the original design."""
    asyncio.run(_fill(env.broker, {B6_ORIGINAL_TOPIC: plan.b6_original_messages}))
    benches = {
        "full": env.mailer_bench(B1_TOPIC, plan.b1_messages),
        "slow": env.mailer_bench(B1_ORIGINAL_TOPIC, plan.b1_baseline_messages),
        "original": env.mailer_bench(B6_ORIGINAL_TOPIC, plan.b6_original_messages),
    }
    return measure_relay_latency(benches.__getitem__, plan)


async def _fill(broker: KafkaBroker, backlogs: dict[str, int]) -> None:
    for topic, count in backlogs.items():
        await fill_topic(broker, topic, count)


def _embedded(env: Environment, plan: Plan) -> list[Figure]:
    """B2 on SQLite, the embedded default of ``make run`` and the tests."""
    asyncio.run(_fill(env.broker, {B2_TOPIC: 0}))
    return measure_backend(env.api_bench(plan), "sqlite", plan, B2_TOPIC)


def _production_path(env: Environment, plan: Plan) -> list[Figure]:
    """B5 and B4's movies half, on PostgreSQL."""
    if env.postgres is None:
        return _not_run(B5_TARGETS, env.postgres_missing)
    asyncio.run(_fill(env.broker, {B5_TOPIC: 0}))
    return measure_production_path(env.api_bench(plan), plan, B5_TOPIC)


def _not_run(targets: tuple[Target, ...], reason: str) -> list[Figure]:
    return [Figure(target.figure_key, target.description, "", not_run=reason) for target in targets]


def _end_to_end(env: Environment, plan: Plan) -> list[Figure]:
    if env.postgres is None:
        return _not_run(B3_TARGETS, env.postgres_missing)
    env.broker.create_topics({B3_TOPIC: PARTITIONS, f"{B3_TOPIC}.dlq": 1})
    arrivals = MailArrivals(env.workdir / "b3-mail")
    arrivals.start(env.workdir / "b3-sink.log")
    try:
        mailer = env.mailer_bench(B3_TOPIC, 0)
        return measure_end_to_end(env.api_bench(plan), mailer, arrivals, plan, B3_TOPIC)
    finally:
        arrivals.stop()
