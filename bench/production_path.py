"""B5: movies on PostgreSQL, the production path, beside two floors measured in the same run.

Cases (each run starts every case on a fresh database; runs are interleaved, so load from
elsewhere on the shared machine lands on all of them):

- movies on PostgreSQL with tracing at 100% to a counting receiver, and off; one process
  and two processes behind the same database (replicas: the load spreads its connections
  over both, as a Service would); one run at the chart's sampling ratio; one on a server
  with PostgreSQL's production durability (``fsync``, ``synchronous_commit`` and
  ``full_page_writes`` on), beside the fast server every other case uses (all three off);
- the floors: a bare Litestar app whose ``POST`` returns 202 (:mod:`bench.bare_api`),
  tracing on and off, and the seed-style endpoint (:mod:`bench.original_api`) on
  PostgreSQL.

The load comes from many client addresses (``X-Forwarded-For`` from a trusted proxy), so
the per-client rate-limit row is not the only contention. Per case and run: an open-loop
ladder of rates (p50/p99 at 300 and 1,000 req/s, and the highest rate answered with
p99 under 25 ms, refined by bisection); a closed loop at 8 connections (answered req/s,
CPU per request of the service processes and of PostgreSQL, from ``/proc``); spans per
request over the deployment's life (the exporter flushes on shutdown).
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

import yaml

from bench.api_latency import Schedule
from bench.cpu_time import tree_cpu_seconds
from bench.figures import Figure, Target
from bench.load_generator import Load, LoadResult
from bench.movies_runs import ApiBench, ApiCase, Deployment
from bench.plan import Plan

if TYPE_CHECKING:
    from devstack.postgres import PostgresServer

P99_BOUND_MS: Final = 25.0
# After the closed loop, a rate past capacity starts from whatever backlog is left then.
_SETTLE_S: Final = 15.0
CHART_VALUES: Final = Path(__file__).resolve().parent.parent / "deploy/helm/reelmail/values.yaml"
_MS: Final = 1000.0


def chart_sampling_ratio(values: Path = CHART_VALUES) -> str:
    """Read the chart's default ``OTEL_TRACES_SAMPLER_ARG``: what users run unless they choose."""
    return str(yaml.safe_load(values.read_text())["otel"]["samplerArg"])


@dataclass(frozen=True, slots=True)
class B5Case:
    """One row of B5: its key under ``b5.``, its label and the service it runs.

    Without ``ladder`` only the fixed rates and the closed loop run (no search for the
    highest rate under 25 ms): the cases that vary one setting of another case.
    """

    key: str
    label: str
    api: ApiCase
    ladder: bool = True


def b5_cases(ratio: str) -> tuple[B5Case, ...]:
    """Every case of one B5 run, movies first, then the floors."""

    def movies(
        *, telemetry: bool, processes: int = 1, sampling_ratio: str = "", durable: bool = False
    ) -> ApiCase:
        return ApiCase("reelmail", "postgresql", telemetry, processes, sampling_ratio, durable)

    return (
        B5Case("pg.on", "movies PG, tracing 100%", movies(telemetry=True)),
        B5Case("pg.off", "movies PG, tracing off", movies(telemetry=False)),
        B5Case(
            "pg.on.2p",
            "movies PG, tracing 100%, 2 processes",
            movies(telemetry=True, processes=2),
            ladder=False,
        ),
        B5Case(
            "pg.off.2p", "movies PG, tracing off, 2 processes", movies(telemetry=False, processes=2)
        ),
        B5Case(
            "pg.chart_ratio",
            f"movies PG, tracing at the chart's {ratio}",
            movies(telemetry=True, sampling_ratio=ratio),
            ladder=False,
        ),
        B5Case(
            "pg_durable.on",
            "movies PG with production durability, tracing 100%",
            movies(telemetry=True, durable=True),
            ladder=False,
        ),
        B5Case(
            "bare.on", "bare Litestar POST, tracing on", ApiCase("bare", "none", telemetry=True)
        ),
        B5Case(
            "bare.off", "bare Litestar POST, tracing off", ApiCase("bare", "none", telemetry=False)
        ),
        B5Case(
            "seed.pg", "seed-style endpoint PG", ApiCase("original", "postgresql", telemetry=False)
        ),
    )


@dataclass(frozen=True, slots=True)
class Step:
    """One open-loop rate of the ladder, with the service's CPU per answered request."""

    schedule: Schedule
    cpu_ms: float

    @property
    def within_bound(self) -> bool:
        """p99 under 25 ms, unanswered requests counted as infinitely late."""
        return self.schedule.p99_ms < P99_BOUND_MS


@dataclass(frozen=True, slots=True)
class ClosedLoop:
    """The closed-loop run: answered req/s and CPU per request, service and PostgreSQL."""

    req_per_s: float
    cpu_ms: float
    pg_cpu_ms: float | None


@dataclass
class CaseRun:
    """Everything one run of one case measured."""

    steps: dict[int, Step] = field(default_factory=dict)
    max_rate: float = 0.0
    closed: ClosedLoop | None = None
    spans_per_request: float = 0.0
    load_1m: float = 0.0


class _Meter:
    """CPU seconds of the service's processes and of the PostgreSQL server, together."""

    def __init__(self, deployment: Deployment, postgres: PostgresServer | None) -> None:
        self._deployment, self._postgres = deployment, postgres

    def read(self) -> tuple[float, float]:
        service = tree_cpu_seconds(self._deployment.pids)
        pg_pid = self._postgres.pid if self._postgres is not None else None
        return service, tree_cpu_seconds([pg_pid]) if pg_pid else 0.0


@dataclass
class B5Runner:
    """Runs one case once: the ladder, the bisection, the closed loop, the span count."""

    bench: ApiBench
    plan: Plan
    topic: str
    sent: int = 0

    def run(self, case: B5Case) -> CaseRun:
        """Deploy the case on a fresh database, measure it, stop it.

        Rates past the service's capacity leave a backlog, so the closed loop runs
        before them: the ladder stops at its first miss, and the fixed rates it did not
        reach run last.
        """
        found = CaseRun(load_1m=round(os.getloadavg()[0], 2))
        spans_before, probes_before = self.bench.receiver.count, self.bench.probes_sent
        self.sent = 0
        with self.bench.deployed(case.api, self.topic) as deployment:
            meter = _Meter(deployment, self._server(case))
            self._load(deployment, self.plan.rate(50), self.plan.warmup_seconds)
            if case.ladder:
                self._ladder(deployment, meter, found)
            found.closed = self._closed_loop(deployment, meter, case)
            for nominal in self.plan.b5_fixed_rates:
                if nominal not in found.steps:
                    found.steps[nominal] = self._step(deployment, meter, nominal, _SETTLE_S)
        requests = self.sent + self.bench.probes_sent - probes_before
        found.spans_per_request = (self.bench.receiver.count - spans_before) / max(1, requests)
        return found

    def _server(self, case: B5Case) -> PostgresServer | None:
        if case.api.backend != "postgresql":
            return None
        return self.bench.durable_postgres if case.api.durable else self.bench.postgres

    def _ladder(self, deployment: Deployment, meter: _Meter, found: CaseRun) -> None:
        """Climb the rates until p99 reaches 25 ms, then bisect between the last two."""
        passed, failed = 0.0, 0.0
        for nominal in self.plan.b5_ladder:
            step = self._step(deployment, meter, nominal)
            found.steps[nominal] = step
            if not step.within_bound:
                failed = nominal
                break
            passed = nominal
        for _ in range(self.plan.b5_bisections if failed else 0):
            middle = round((passed + failed) / 2)
            step = self._step(deployment, meter, middle)
            passed, failed = (middle, failed) if step.within_bound else (passed, middle)
        found.max_rate = self.plan.rate(passed)

    def _step(
        self, deployment: Deployment, meter: _Meter, nominal: float, settle_s: float = 60.0
    ) -> Step:
        self.bench.settle(deployment.urls[0], within=settle_s)
        before = meter.read()[0]
        result = self._load(deployment, self.plan.rate(nominal), self.plan.b5_step_seconds)
        spent = meter.read()[0] - before
        return Step(Schedule.of(result), spent * _MS / max(1, result.accepted))

    def _closed_loop(self, deployment: Deployment, meter: _Meter, case: B5Case) -> ClosedLoop:
        self.bench.settle(deployment.urls[0])
        service, database = meter.read()
        result = self._load(deployment, 0.0, self.plan.b5_closed_seconds, connections=8)
        service_after, database_after = meter.read()
        answered = max(1, result.accepted)
        pg_cpu = (database_after - database) * _MS / answered
        return ClosedLoop(
            req_per_s=result.accepted / result.duration_s,
            cpu_ms=(service_after - service) * _MS / answered,
            pg_cpu_ms=pg_cpu if case.api.backend == "postgresql" else None,
        )

    def _load(
        self, deployment: Deployment, rate: float, seconds: float, connections: int = 0
    ) -> LoadResult:
        load = Load(
            deployment.urls,
            seconds,
            f"b5-{uuid.uuid4().hex[:10]}",
            self.bench.request_timeout_s,
            rate=rate,
            connections=connections,
            clients=self.plan.b5_clients,
        )
        result = self.bench.run(load)
        self.sent += result.sent
        return result


def measure_production_path(bench: ApiBench, plan: Plan, topic: str) -> list[Figure]:
    """Every B5 figure and ratio, and B4's movies half, from ``plan.runs`` interleaved runs."""
    runs, figures = _measure_cases(bench, plan, topic, b5_cases(chart_sampling_ratio()))
    return [*figures, *_ratios(runs), *_tracing_cost(runs)]


# The cases B4's movies half compares, without B5's search for the highest rate.
B4_CASE_KEYS: Final = frozenset({"pg.on", "pg.off", "pg.chart_ratio", "bare.on", "bare.off"})


def measure_tracing_cost(bench: ApiBench, plan: Plan, topic: str) -> list[Figure]:
    """Only B4's movies half (``python -m bench --only b4``): five B5 cases, no ladder."""
    cases = [
        replace(case, ladder=False)
        for case in b5_cases(chart_sampling_ratio())
        if case.key in B4_CASE_KEYS
    ]
    runs, figures = _measure_cases(bench, plan, topic, cases)
    return [*figures, *_tracing_cost(runs)]


def _measure_cases(
    bench: ApiBench, plan: Plan, topic: str, cases: Iterable[B5Case]
) -> tuple[dict[str, list[CaseRun]], list[Figure]]:
    """Every case once, ``plan.runs`` times over (load from elsewhere lands on them all)."""
    # Replicas migrate on start, as without the Helm hook: the migration's advisory lock
    # lets one run it while the other waits, and the harness saves an interpreter start.
    runner = B5Runner(replace(bench, migrate_first=False), plan, topic)
    cases = tuple(cases)
    runs: dict[str, list[CaseRun]] = {case.key: [] for case in cases}
    for _ in range(plan.runs):
        for case in cases:
            runs[case.key].append(runner.run(case))
    figures = [figure for case in cases for figure in _case_figures(case, runs[case.key], plan)]
    return runs, figures


def _case_figures(case: B5Case, runs: list[CaseRun], plan: Plan) -> list[Figure]:
    key, label = f"b5.{case.key}", f"B5 {case.label}"
    loads: dict[str, float | str] = {"load_1m": " ".join(f"{run.load_1m:.2f}" for run in runs)}

    def figure(name: str, what: str, unit: str, values: Iterable[float]) -> Figure:
        return Figure(f"{key}.{name}", f"{label}: {what}", unit, tuple(values), extra=loads)

    found = []
    for rate in plan.b5_fixed_rates:
        steps = [run.steps[rate].schedule for run in runs]
        found += [
            figure(f"p50_ms_at_{rate}", f"p50 at {rate}/s", "ms", (s.p50_ms for s in steps)),
            figure(f"p99_ms_at_{rate}", f"p99 at {rate}/s", "ms", (s.p99_ms for s in steps)),
            figure(
                f"answered_at_{rate}",
                f"answered at {rate}/s",
                "req/s",
                (s.throughput for s in steps),
            ),
        ]
    closed = [run.closed for run in runs if run.closed is not None]
    found += [
        figure(
            "cpu_ms_at_300",
            "CPU per request at 300/s",
            "ms",
            (run.steps[300].cpu_ms for run in runs),
        ),
        figure(
            "req_per_s",
            "answered, closed loop at 8 connections",
            "req/s",
            (c.req_per_s for c in closed),
        ),
        figure(
            "cpu_ms_per_request",
            "CPU per request, service (closed loop)",
            "ms",
            (c.cpu_ms for c in closed),
        ),
    ]
    if case.ladder:
        found.append(
            figure(
                "max_rate_p99_under_25ms",
                "highest rate with p99 < 25 ms",
                "req/s",
                (run.max_rate for run in runs),
            )
        )
    if case.api.backend == "postgresql":
        found.append(
            figure(
                "pg_cpu_ms_per_request",
                "CPU per request, PostgreSQL",
                "ms",
                (c.pg_cpu_ms or 0.0 for c in closed),
            )
        )
    if case.api.telemetry:
        found.append(
            figure(
                "spans_per_request",
                "spans per request",
                "spans",
                (run.spans_per_request for run in runs),
            )
        )
    return found


Measure = Callable[[CaseRun], float]


def _cpu(run: CaseRun) -> float:
    return run.closed.cpu_ms if run.closed else float("nan")


def _rate(run: CaseRun) -> float:
    return run.closed.req_per_s if run.closed else float("nan")


def paired(
    key: str,
    label: str,
    pairs: Iterable[tuple[float, float]],
    combine: Callable[[float, float], float],
    unit: str = "x",
) -> Figure:
    """Combine two cases measured in the same runs, run by run (their ratio, say).

    Runs are interleaved, so run ``i`` of both cases saw the same machine; combining
    them run by run keeps the spread of the ratio, not just the ratio of two medians.
    """
    samples = tuple(combine(a, b) for a, b in pairs if b and math.isfinite(a) and math.isfinite(b))
    if not samples:
        return Figure(key, label, unit, not_run="a case produced no figure")
    return Figure(key, label, unit, samples)


def _divide(a: float, b: float) -> float:
    return a / b


def _pairs(
    runs: dict[str, list[CaseRun]], a: str, b: str, measure: Measure
) -> list[tuple[float, float]]:
    return [(measure(x), measure(y)) for x, y in zip(runs[a], runs[b], strict=True)]


_RATIOS: Final = (
    (
        "pg.on.cpu_vs_bare_on",
        "pg.on",
        "bare.on",
        _cpu,
        "movies CPU / bare Litestar CPU, tracing on",
    ),
    (
        "pg.off.cpu_vs_bare_off",
        "pg.off",
        "bare.off",
        _cpu,
        "movies CPU / bare Litestar CPU, tracing off",
    ),
    ("pg.off.cpu_vs_seed", "pg.off", "seed.pg", _cpu, "movies CPU / seed-style CPU, tracing off"),
    (
        "pg.on.req_per_s_vs_bare_on",
        "pg.on",
        "bare.on",
        _rate,
        "movies req/s / bare Litestar req/s, tracing on",
    ),
    (
        "pg.off.req_per_s_vs_seed",
        "pg.off",
        "seed.pg",
        _rate,
        "movies req/s / seed-style req/s, tracing off",
    ),
    (
        "pg.on.req_per_s_vs_seed",
        "pg.on",
        "seed.pg",
        _rate,
        "movies (tracing on) req/s / seed-style req/s",
    ),
    ("pg.off.2p_vs_1p", "pg.off.2p", "pg.off", _rate, "2 processes / 1, tracing off, req/s"),
    ("pg.on.2p_vs_1p", "pg.on.2p", "pg.on", _rate, "2 processes / 1, tracing on, req/s"),
    (
        "pg_durable.on.vs_fsync_off",
        "pg_durable.on",
        "pg.on",
        _rate,
        "production durability / fsync off, req/s",
    ),
)


def _ratios(runs: dict[str, list[CaseRun]]) -> list[Figure]:
    return [
        paired(f"b5.{key}", f"B5 {label}", _pairs(runs, a, b, measure), _divide)
        for key, a, b, measure, label in _RATIOS
    ]


def _tracing_cost(runs: dict[str, list[CaseRun]]) -> list[Figure]:
    """B4 for movies: the CPU tracing adds to a code request, against what it adds to the floor."""
    movies = paired(
        "b4.movies.tracing_cpu_ms",
        "B4 movies: CPU tracing adds per request",
        _pairs(runs, "pg.on", "pg.off", _cpu),
        _subtract,
        "ms",
    )
    bare = paired(
        "b4.bare.tracing_cpu_ms",
        "B4 bare Litestar: CPU tracing adds per request",
        _pairs(runs, "bare.on", "bare.off", _cpu),
        _subtract,
        "ms",
    )
    versus = paired(
        "b4.movies.tracing_cpu_vs_bare",
        "B4 movies: tracing's CPU / its CPU on the bare POST",
        zip(movies.samples, bare.samples, strict=False),
        _divide,
    )
    share = paired(
        "b4.movies.chart_ratio.tracing_cpu_pct",
        "B4 movies: tracing's share of CPU at the chart's ratio",
        _pairs(runs, "pg.chart_ratio", "pg.off", _cpu),
        _share_pct,
        "%",
    )
    return [movies, bare, versus, share]


def _subtract(a: float, b: float) -> float:
    return a - b


def _share_pct(traced: float, untraced: float) -> float:
    return (traced - untraced) / traced * 100.0


TARGETS: Final = (
    Target(
        "b5.pg.on.cpu_ms_per_request",
        "B5 PG tracing 100%: CPU per code request <= 1.5 ms",
        1.5,
        "at_most",
    ),
    Target(
        "b5.pg.on.cpu_vs_bare_on",
        "B5 PG tracing 100%: CPU <= 4x the bare Litestar floor",
        4.0,
        "at_most",
    ),
    Target(
        "b5.pg.on.p99_ms_at_300",
        "B5 PG tracing 100%: p99 < 25 ms at 300 req/s",
        P99_BOUND_MS,
        "at_most",
    ),
    Target(
        "b5.pg.on.req_per_s", "B5 PG tracing 100%: at least 800 req/s answered", 800.0, "at_least"
    ),
    Target(
        "b5.pg.off.req_per_s",
        "B5 PG tracing off: at least 1,200 req/s answered",
        1200.0,
        "at_least",
    ),
    Target("b5.pg.off.2p_vs_1p", "B5 PG tracing off: 2 processes >= 1.3x one", 1.3, "at_least"),
    Target(
        "b4.movies.tracing_cpu_vs_bare",
        "B4 movies: tracing adds <= 1.5x what it adds to the bare POST",
        1.5,
        "at_most",
    ),
    Target(
        "b4.movies.chart_ratio.tracing_cpu_pct",
        "B4 movies: at the chart's ratio tracing <= 5% of CPU",
        5.0,
        "at_most",
    ),
)
