"""B2, B3 and B4's movies half, from open-loop schedules against running services.

B2 is the latency and throughput of ``POST /auth/codes``; B3 the time from a code
request to its mail's SMTP accept; B4 compares movies with tracing off and on.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self

from bench.figures import Figure, overhead, percentile, ratio
from bench.movies_runs import ApiBench, ApiCase, Backend, MailArrivals

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bench.load_generator import LoadResult
    from bench.mailer_runs import MailerBench
    from bench.plan import Plan

_MS: Final = 1000.0
_SETTLE_SECONDS: Final = 10.0
# A schedule kept up when at least this share of its requests was answered in time.
_KEEPING_UP: Final = 0.95


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
    for rate in plan.b2_rates:
        mine = _figures(f"b2.{backend}.{rate}.reelmail", f"B2 {backend} {rate}/s ours", ours[rate])
        theirs = _figures(
            f"b2.{backend}.{rate}.original", f"B2 {backend} {rate}/s original", original[rate]
        )
        figures += [*mine, *theirs]
        figures.append(
            ratio(
                f"b2.{backend}.{rate}.p99_ratio",
                f"B2 {backend} {rate}/s: original p99 / ours p99",
                theirs[1],
                mine[1],
            )
        )
    return figures


def backend_not_run(backend: Backend, plan: Plan, reason: str) -> list[Figure]:
    """Every B2 figure of a database that could not be measured, saying why."""
    return [
        Figure(
            f"b2.{backend}.{rate}.{who}.{what}",
            f"B2 {backend} {rate}/s {who} {what}",
            unit,
            not_run=reason,
        )
        for rate in plan.b2_rates
        for who in ("reelmail", "original")
        for what, unit in (("p50", "ms"), ("p99", "ms"), ("throughput", "req/s"))
    ] + [
        Figure(
            f"b2.{backend}.{rate}.p99_ratio",
            f"B2 {backend} {rate}/s p99 ratio",
            "x",
            not_run=reason,
        )
        for rate in plan.b2_rates
    ]


def measure_movies_tracing(
    bench: ApiBench, plan: Plan, topic: str, traced: list[Figure]
) -> list[Figure]:
    """B4 for movies: p99 at one rate on SQLite with tracing off, against B2's traced run."""
    rate = plan.b4_rate
    case = ApiCase("reelmail", "sqlite", telemetry=False)
    off = _figures(
        f"b4.movies.{rate}.nootel",
        f"B4 movies sqlite {rate}/s tracing off",
        _schedules(bench, case, plan, topic, (rate,))[rate],
    )
    on = next(figure for figure in traced if figure.key == f"b2.sqlite.{rate}.reelmail.p99")
    answered = next(
        figure for figure in traced if figure.key == f"b2.sqlite.{rate}.reelmail.throughput"
    )
    key, label = "b4.movies.p99.overhead", f"B4 movies: p99 added by tracing at {rate}/s"
    kept_up = min(answered.value or 0.0, off[2].value or 0.0)
    if kept_up < _KEEPING_UP * plan.rate(rate):
        # A p99 past saturation is queueing time: comparing two of them says nothing
        # about what tracing costs (the first run reported such a ratio as a pass).
        why = f"saturated: {kept_up:.0f} of {plan.rate(rate):.0f} req/s answered"
        return [*off, Figure(key, label, "%", not_run=why)]
    return [*off, overhead(key, label, on, off[1], rate=False)]


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

    Measured at the issue's rate and at a low one, which shows the pipeline's own
    latency when movies is not saturated. A request that got no mail counts as
    infinitely late.
    """
    rates = (plan.b3_rate, plan.b3_low_rate)
    found: dict[int, list[tuple[float, float, int]]] = {rate: [] for rate in rates}
    with ExitStack() as stack:
        mailer_ready = stack.enter_context(mailer.serving(topic, arrivals.port))
        case = ApiCase("reelmail", "sqlite", telemetry=True)
        url = stack.enter_context(bench.serving(case, topic))
        mailer_ready()
        for rate in sorted(rates):
            for run in range(plan.runs):
                if run:
                    bench.settle(url)
                result = bench.load(url, plan.rate(rate), plan.b3_seconds)
                found[rate].append(_end_to_end_run(arrivals, result))
    keys = {plan.b3_rate: "b3", plan.b3_low_rate: "b3.low"}
    return [
        figure for rate in rates for figure in _end_to_end_figures(keys[rate], rate, found[rate])
    ]


def _end_to_end_run(arrivals: MailArrivals, result: LoadResult) -> tuple[float, float, int]:
    delivered = list(_delivery_latencies(arrivals, result))
    missing = result.sent - len(delivered)
    latencies = delivered + [float("inf")] * missing
    return percentile(latencies, 0.50) * _MS, percentile(latencies, 0.99) * _MS, missing


def _end_to_end_figures(key: str, rate: int, runs: list[tuple[float, float, int]]) -> list[Figure]:
    label = f"B3 request to SMTP accept at {rate}/s"
    missing = float(sum(run[2] for run in runs))
    return [
        Figure(f"{key}.p50", f"{label} p50", "ms", tuple(run[0] for run in runs)),
        Figure(
            f"{key}.p99",
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
