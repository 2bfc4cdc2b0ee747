"""B6: B1 through a 20 ms round trip to the relay, over TLS, tracing on.

Loopback hides what a relay 10-50 ms away costs: every command the client waits for
costs a round trip, so a mailer that sends one mail per connection at a time is bound
by ``connections / (round trips per mail * RTT)`` long before its CPU is. Each case
drains a backlog through :class:`~bench.latency_link.LatencyLink` in front of stunnel
and ``smtp-sink``:

- the original design (a new connection, TLS handshake and EHLO per mail);
- our mailer with the defaults it had before B6 (4 connections, 64 in flight);
- our defaults;
- our defaults at the chart's sampling ratio (``parentbased_traceidratio``, 10%);
- our defaults with pipelining off (aiosmtplib's ``sendmail``, one command per round
  trip, on the same pooled connections): what ``mailer.smtp_pipelining`` buys.

The slow cases drain smaller backlogs, so each run takes seconds, not minutes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from bench.figures import Figure, Target, ratio
from bench.mailer_runs import MailerBench, MailerCase, MailerRun, rate_figure

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.plan import Plan

RTT_MS: Final = 20
PREFIX: Final = f"b6.tls.rtt{RTT_MS}"
CHART_SAMPLING_RATIO: Final = "0.1"
BEFORE_B6: Final = (("SMTP_POOL_SIZE", "4"), ("MAILER_MAX_INFLIGHT", "64"))
SAMPLED: Final = (
    ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
    ("OTEL_TRACES_SAMPLER_ARG", CHART_SAMPLING_RATIO),
)
NO_PIPELINING: Final = (("SMTP_PIPELINING", "off"),)
# B1's 20,000 (``full``) and 2,000 (``slow``) backlogs, and the original design's own.
Backlog = Literal["full", "slow", "original"]


@dataclass(frozen=True, slots=True)
class RelayCase:
    """One B6 row: the mailer case, its figure key and label, and which backlog it drains."""

    key: str
    label: str
    case: MailerCase
    backlog: Backlog


def _ours(variant: str, settings: tuple[tuple[str, str], ...] = ()) -> MailerCase:
    return MailerCase(
        "reelmail", "tls", telemetry=True, rtt_ms=RTT_MS, variant=variant, settings=settings
    )


CASES: Final = (
    RelayCase(
        f"{PREFIX}.original.mails_per_s",
        f"B6 original design, {RTT_MS} ms RTT, TLS",
        MailerCase("original", "tls", telemetry=False, rtt_ms=RTT_MS),
        "original",
    ),
    RelayCase(
        f"{PREFIX}.on.pool4.mails_per_s",
        "B6 ours, 4 connections, 64 in flight (before B6)",
        _ours("pool4", BEFORE_B6),
        "slow",
    ),
    RelayCase(f"{PREFIX}.on.mails_per_s", "B6 ours, defaults, tracing 100%", _ours("on"), "full"),
    RelayCase(
        f"{PREFIX}.ratio10.mails_per_s",
        "B6 ours, defaults, tracing 10% (chart default)",
        _ours("ratio10", SAMPLED),
        "full",
    ),
    RelayCase(
        f"{PREFIX}.on.sendmail.mails_per_s",
        "B6 ours, defaults, pipelining off (sendmail)",
        _ours("sendmail", NO_PIPELINING),
        "full",
    ),
)

TARGETS: Final = (
    Target(
        f"{PREFIX}.on.mails_per_s",
        f"B6: at least 1,000 mails/s at {RTT_MS} ms RTT, TLS, tracing 100%",
        1000.0,
        "at_least",
    ),
    Target(f"{PREFIX}.ratio", "B6: at least 100x the original design", 100.0, "at_least"),
)


def measure_relay_latency(benches: Callable[[Backlog], MailerBench], plan: Plan) -> list[Figure]:
    """Every B6 figure, each the median of ``plan.runs`` drained backlogs, cases interleaved.

    ``benches`` gives the runner for a backlog name (``RelayCase.backlog``).
    """
    runs: dict[str, list[MailerRun]] = defaultdict(list)
    for _ in range(plan.runs):
        for row in CASES:
            runs[row.key].append(benches(row.backlog).run(row.case))
    rates = {row.key: rate_figure(row.key, row.label, runs[row.key]) for row in CASES}
    link = [run.link_rtt_ms for found in runs.values() for run in found if run.link_rtt_ms]
    return [
        *rates.values(),
        ratio(
            f"{PREFIX}.ratio",
            "B6 ours (defaults, tracing 100%) / original",
            rates[f"{PREFIX}.on.mails_per_s"],
            rates[f"{PREFIX}.original.mails_per_s"],
        ),
        ratio(
            f"{PREFIX}.pipelining.ratio",
            "B6 pipelining on / off (same pool)",
            rates[f"{PREFIX}.on.mails_per_s"],
            rates[f"{PREFIX}.on.sendmail.mails_per_s"],
        ),
        Figure(f"{PREFIX}.link.rtt_ms", "B6 link: one SMTP NOOP through it", "ms", tuple(link)),
    ]
