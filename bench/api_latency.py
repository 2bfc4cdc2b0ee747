"""B2 and B3, from open-loop schedules against running services.

B2 is the latency and throughput of ``POST /auth/codes`` on SQLite, the embedded default
of ``make run`` and the tests (B5, :mod:`bench.production_path`, measures the production
path on PostgreSQL); B3 the time from a code request to its mail's SMTP accept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Self

from bench.figures import Figure, Target, percentile, ratio
from bench.load_generator import Load, LoadResult
from bench.mailer_runs import MailerBench
from bench.movies_runs import ApiBench, ApiCase, Backend, MailArrivals

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bench.load_generator import LoadResult
    from bench.mailer_runs import MailerBench
    from bench.plan import Plan

_MS: Final = 1000.0
TARGETS: Final = (
    Target(
        "b2.sqlite.300.reelmail.p99",
        "B2 SQLite (embedded default): p99 under 25 ms at 300/s",
        25.0,
        "at_most",
    ),
    Target("b3.pg.p99_ms_at_300", "B3 PG tracing on: p99 under 250 ms at 300/s", 250.0, "at_most"),
)
_SETTLE_SECONDS: Final = 10.0


@dataclass(frozen=True, slots=True)
class Schedule:
    """One load level's results: latency percentiles in ms and answered requests per second."""

    p50_ms: float
    p99_ms: float
    throughput: float
    failed: int

    @classmethod
    def of(cls, result: LoadResult) -> Schedule:
        """Summarise one run; an unanswered request counts as infinitely late, not as absent."""
        latencies = result.latencies + [float("inf")] * result.failed
        if not latencies:
            return cls(float("inf"), float("inf"), 0.0, result.failed)
        return cls(
            p50_ms=percentile(latencies, 0.50) * _MS,
            p99_ms=percentile(latencies, 0.99) * _MS,
            throughput=result.accepted / result.duration_s,
            failed=result.failed,
        )


def measure_backend(bench: ApiBench, backend: Backend, plan: Plan, topic: str) -> list[Figure]:
    """B2 for ours (tracing on) and the original on one database, every rate."""
    ours = _schedules(bench, ApiCase("reelmail", backend, telemetry=True), plan, topic)
    original = _schedules(bench, ApiCase("original", backend, telemetry=False), plan, topic)
    figures: list[Figure] = []
    name = "SQLite (embedded default)" if backend == "sqlite" else backend
    for rate in plan.b2_rates:
        mine = _figures(f"b2.{backend}.{rate}.reelmail", f"B2 {name} {rate}/s ours", ours[rate])
        theirs = _figures(
            f"b2.{backend}.{rate}.original", f"B2 {name} {rate}/s original", original[rate]
        )
        figures += [*mine, *theirs]
        figures.append(
            ratio(
                f"b2.{backend}.{rate}.p99_ratio",
                f"B2 {name} {rate}/s: original p99 / ours p99",
                theirs[1],
                mine[1],
            )
        )
    return figures


def _schedules(
    bench: ApiBench,
    case: ApiCase,
    plan: Plan,
    topic: str,
    rates: tuple[int, ...] | None = None,
) -> dict[int, list[Schedule]]:
    """Each rate on a fresh service and database: warm up, then ``plan.runs`` schedules.

    An overloaded run leaves a backlog that would be charged to the next one, so the
    service must settle between runs; one that does not settle soon is restarted.
    """
    found: dict[int, list[Schedule]] = {}
    for rate in rates or plan.b2_rates:
        with _Restartable(bench, case, topic) as service:
            if plan.warmup_seconds:
                bench.load(service.url, plan.rate(50), plan.warmup_seconds)
            found[rate] = []
            for run in range(plan.runs):
                if run and bench.settle(service.url, within=_SETTLE_SECONDS) >= _SETTLE_SECONDS:
                    service.restart()
                result = bench.load(service.url, plan.rate(rate), plan.b2_seconds)
                found[rate].append(Schedule.of(result))
    return found


class _Restartable:
    """A served case that can be replaced by a fresh process on a fresh database."""

    def __init__(self, bench: ApiBench, case: ApiCase, topic: str) -> None:
        self._bench, self._case, self._topic = bench, case, topic
        self._stack = ExitStack()
        self.url = ""

    def __enter__(self) -> Self:
        self.url = self._stack.enter_context(self._serve())
        return self

    def _serve(self) -> AbstractContextManager[str]:
        return self._bench.serving(self._case, self._topic)

    def __exit__(self, *_exc: object) -> None:
        self._stack.close()

    def restart(self) -> None:
        self._stack.close()
        self._stack = ExitStack()
        self.url = self._stack.enter_context(self._serve())


def _figures(key: str, label: str, runs: list[Schedule]) -> list[Figure]:
    """p50, p99 (ms) and throughput (req/s), each the median over runs."""
    failed = float(sum(run.failed for run in runs))
    return [
        Figure(f"{key}.p50", f"{label} p50", "ms", tuple(run.p50_ms for run in runs)),
        Figure(
            f"{key}.p99",
            f"{label} p99",
            "ms",
            tuple(run.p99_ms for run in runs),
            extra={"failed_requests": failed},
        ),
        Figure(
            f"{key}.throughput", f"{label} answered", "req/s", tuple(run.throughput for run in runs)
        ),
    ]


def measure_end_to_end(
    bench: ApiBench, mailer: MailerBench, arrivals: MailArrivals, plan: Plan, topic: str
) -> list[Figure]:
    """B3: from each request's due time to its mail's arrival at the sink, both traced.

    movies runs on PostgreSQL, the production path, with the load from many client
    addresses as B5's. Measured at the issue's rate and at a low one, which shows the
    pipeline's own latency when nothing queues. A request that got no mail counts as
    infinitely late.
    """
    rates = (plan.b3_rate, plan.b3_low_rate)
    found: dict[int, list[tuple[float, float, int]]] = {rate: [] for rate in rates}
    with ExitStack() as stack:
        mailer_ready = stack.enter_context(mailer.serving(topic, arrivals.port))
        case = ApiCase("reelmail", "postgresql", telemetry=True)
        url = stack.enter_context(bench.serving(case, topic))
        mailer_ready()
        for rate in sorted(rates):
            for run in range(plan.runs):
                if run:
                    bench.settle(url)
                prefix = f"b3-{uuid.uuid4().hex[:10]}"
                load = Load((url,), plan.b3_seconds, prefix, bench.request_timeout_s)
                result = bench.run(replace(load, rate=plan.rate(rate), clients=plan.b5_clients))
                found[rate].append(_end_to_end_run(arrivals, result))
    return [figure for rate in rates for figure in _end_to_end_figures(rate, found[rate])]


def _end_to_end_run(arrivals: MailArrivals, result: LoadResult) -> tuple[float, float, int]:
    delivered = list(_delivery_latencies(arrivals, result))
    missing = result.sent - len(delivered)
    latencies = delivered + [float("inf")] * missing
    return percentile(latencies, 0.50) * _MS, percentile(latencies, 0.99) * _MS, missing


def _end_to_end_figures(rate: int, runs: list[tuple[float, float, int]]) -> list[Figure]:
    label = f"B3 PG request to SMTP accept at {rate}/s"
    missing = float(sum(run[2] for run in runs))
    return [
        Figure(f"b3.pg.p50_ms_at_{rate}", f"{label} p50", "ms", tuple(run[0] for run in runs)),
        Figure(
            f"b3.pg.p99_ms_at_{rate}",
            f"{label} p99",
            "ms",
            tuple(run[1] for run in runs),
            extra={"mails_missing": missing},
        ),
    ]


def _delivery_latencies(arrivals: MailArrivals, result: LoadResult) -> Iterator[float]:
    found = arrivals.wait_for(result.prefix, result.accepted, timeout=30)
    for index, arrived in found.items():
        yield arrived - (result.start_wall + index / result.rate)
