"""B1 (mails/s against the original-style consumer) and B4's mailer half (tracing off/on).

Runs are interleaved (every case once, then again), so a burst of load from elsewhere
on the machine lands on all cases rather than on one.
"""

from __future__ import annotations

import pstats
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Final, cast

from bench.figures import Figure, Target, overhead, ratio
from bench.mailer_runs import MailerBench, MailerCase, MailerRun, Transport, rate_figure

if TYPE_CHECKING:
    from bench.plan import Plan

TRACED_PLAIN: Final = MailerCase("reelmail", "plain", telemetry=True)
UNTRACED_PLAIN: Final = MailerCase("reelmail", "plain", telemetry=False)
CASES: Final = (
    TRACED_PLAIN,
    MailerCase("reelmail", "tls", telemetry=True),
    MailerCase("original", "plain", telemetry=False),
    MailerCase("original", "tls", telemetry=False),
    UNTRACED_PLAIN,
)

TARGETS: Final = (
    Target("b1.tls.ratio", "B1 over TLS: at least 8x the original", 8.0, "at_least"),
    Target(
        "b1.plain.reelmail.otel",
        "B1: at least 2,000 mails/s, one process, tracing on",
        2000.0,
        "at_least",
    ),
    Target(
        "b4.mailer.plain.cpu_overhead",
        "B4 mailer: tracing at 100% adds at most 35% to the CPU per mail",
        35.0,
        "at_most",
    ),
)


def measure_mailers(ours: MailerBench, original: MailerBench, plan: Plan) -> list[Figure]:
    """Every B1 and B4-mailer figure, each the median of ``plan.runs`` drained backlogs."""
    runs: dict[MailerCase, list[MailerRun]] = defaultdict(list)
    for _ in range(plan.runs):
        for case in CASES:
            bench = original if case.kind == "original" else ours
            runs[case].append(bench.run(case))
    rates = {case: _rate_figure(case, found) for case, found in runs.items()}
    return [*rates.values(), *_ratios(rates), *_telemetry_overhead(runs, rates)]


def measure_mailer_tracing_cost(ours: MailerBench, plan: Plan) -> list[Figure]:
    """Only B4's mailer half (``python -m bench --only b4``): plain SMTP, tracing on and off."""
    cases = (TRACED_PLAIN, UNTRACED_PLAIN)
    runs: dict[MailerCase, list[MailerRun]] = defaultdict(list)
    for _ in range(plan.runs):
        for case in cases:
            runs[case].append(ours.run(case))
    rates = {case: _rate_figure(case, runs[case]) for case in cases}
    return [*rates.values(), *_telemetry_overhead(runs, rates)]


def _rate_figure(case: MailerCase, runs: list[MailerRun]) -> Figure:
    tracing = "tracing on" if case.telemetry else "tracing off"
    return rate_figure(
        f"b1.{case.transport}.{case.kind}.{'otel' if case.telemetry else 'nootel'}",
        f"B1 {case.kind} over {case.transport}, {tracing}",
        runs,
    )


def _ratios(rates: dict[MailerCase, Figure]) -> list[Figure]:
    transports: tuple[Transport, ...] = ("plain", "tls")
    return [
        ratio(
            f"b1.{transport}.ratio",
            f"B1 over {transport}: ours (tracing on) / original",
            rates[MailerCase("reelmail", transport, telemetry=True)],
            rates[MailerCase("original", transport, telemetry=False)],
        )
        for transport in transports
    ]


def _telemetry_overhead(
    runs: dict[MailerCase, list[MailerRun]], rates: dict[MailerCase, Figure]
) -> list[Figure]:
    """Price tracing at 100%: the CPU it adds per mail (issue 17), the throughput it costs."""
    on, off = TRACED_PLAIN, UNTRACED_PLAIN
    cpu = {case: _cpu_figure(case, runs[case]) for case in (on, off)}
    return [
        *cpu.values(),
        overhead(
            "b4.mailer.plain.cpu_overhead",
            "B4 mailer: CPU per mail added by tracing (plain SMTP)",
            cpu[on],
            cpu[off],
            rate=False,
        ),
        overhead(
            "b4.mailer.plain.overhead",
            "B4 mailer: throughput lost to tracing (plain SMTP)",
            rates[on],
            rates[off],
            rate=True,
        ),
    ]


def _cpu_figure(case: MailerCase, runs: list[MailerRun]) -> Figure:
    tracing = "otel" if case.telemetry else "nootel"
    return Figure(
        f"b1.{case.transport}.{case.kind}.{tracing}.cpu_ms_per_mail",
        f"B1 {case.kind} over {case.transport}, {tracing}: CPU per mail (process)",
        "ms",
        tuple(run.cpu_ms_per_mail for run in runs),
    )


# Where a mail's time goes, as cumulative shares of the event loop's CPU (they overlap:
# the SMTP send includes its span, the delivery includes everything else).
PROFILE_AREAS: Final = (
    ("delivery.py", "deliver", "one record, end to end (delivery.deliver)"),
    ("delivery.py", "_send_once", "SMTP send incl. its span (delivery._send_once)"),
    ("smtp_session.py", "send_mail", "  the SMTP transaction itself (PipelinedSession.send_mail)"),
    ("sdk/trace/__init__.py", "start_span", "tracing: creating spans (sdk start_span)"),
    ("sdk/trace/__init__.py", "end", "tracing: ending spans (sdk Span.end)"),
    ("opentelemetry/trace/__init__.py", "use_span", "tracing: making spans current (use_span)"),
    ("otp_message.py", "decode_otp_mail", "decoding and validating the record"),
    ("mail_templates.py", "render", "rendering the mail"),
    ("delivery.py", "_delivered", "'mail sent' log line and metrics (delivery._delivered)"),
    ("consumer.py", "_fetch_loop", "fetching from Kafka (consumer._fetch_loop)"),
    ("partition_work.py", "commit", "committing offsets (partition_work.commit)"),
)


def profile_mailer(bench: MailerBench, destination: Path, top: int = 20) -> list[str]:
    """Drain the backlog once under cProfile (TLS, tracing on); summarise where time went."""
    bench.run(MailerCase("reelmail", "tls", telemetry=True, profile_to=destination))
    stats = pstats.Stats(str(destination))
    profile = stats.get_stats_profile()
    shares = [_area_line(stats, profile.total_tt, area) for area in PROFILE_AREAS]
    rows = sorted(profile.func_profiles.items(), key=lambda item: -item[1].tottime)
    own = [_profile_line(name, row, profile.total_tt) for name, row in rows[:top]]
    return [
        "cumulative share of the event loop's CPU:",
        *shares,
        "top functions by own time:",
        *own,
    ]


def _area_line(stats: pstats.Stats, total: float, area: tuple[str, str, str]) -> str:
    suffix, function, label = area
    raw = cast("dict[tuple[str, int, str], tuple[int, int, float, float, object]]", stats.stats)  # type: ignore[attr-defined]
    cumulative = sum(
        numbers[3]
        for (filename, _, name), numbers in raw.items()
        if name == function and filename.endswith(suffix)
    )
    return f"{100 * cumulative / total:5.1f}%  {label}"


def _profile_line(name: str, row: pstats.FunctionProfile, total: float) -> str:
    where = f"{Path(row.file_name).name}:{row.line_number}({name})" if row.line_number else name
    own, cumulative = 100 * row.tottime / total, 100 * row.cumtime / total
    return f"{own:5.1f}% own {cumulative:5.1f}% cum  {where}"
