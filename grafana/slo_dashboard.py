"""OTP delivery SLO dashboard: are codes mailed within 30 s, and how fast does budget go.

The burn-rate, SLI-over-time and budget panels read the recording rules the burn-rate
alerts read, so what pages and what is on screen agree (in a cluster they come with the
chart's PrometheusRule, prometheusRule.enabled; compose's Prometheus loads them); the
range SLI computes from the raw histogram so it works over any time range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import stat, timeseries
from grafana_foundation_sdk.models.dashboard import (
    DashboardRangeMapOptions,
    RangeMap,
    ValueMappingResult,
    VariableOption,
)

from grafana import dashboard_variables as variables
from grafana import otp_slo
from grafana.dashboard_layout import Section, built, new_dashboard, with_sections
from grafana.dashboard_markers import threshold_value
from grafana.panel_defaults import (
    RATE,
    base_colour,
    dashed_threshold_lines,
    instant_query,
    latency_panel,
    query,
    runbook_links,
    stat_panel,
    thresholds,
    timeseries_panel,
)
from grafana.rule_dialects import MAILER_JOB
from grafana.rule_dialects import TOPIC as TOPIC_SETTING
from grafana.thresholds import OTP_DELIVERY_SLO_OBJECTIVE, format_number

if TYPE_CHECKING:
    from grafana_foundation_sdk.models import dashboard

UID: Final = "reelmail-otp-slo"
MAILER: Final = 'job=~"$job", namespace=~"$namespace"'
NAMESPACE: Final = '{namespace=~"$namespace"}'
BUDGET: Final = "(1 - $objective)"
OBJECTIVES: Final = ("0.99", "0.995", "0.999")
BURN_WINDOWS: Final = ("1h", "6h", "1d", "3d")
NEEDS_RULES: Final = (
    " Reads the SLO's recording rules: in a cluster they come with the chart's "
    "PrometheusRule (prometheusRule.enabled); without them this panel is empty."
)
GOOD: Final = f"mailer_delivery_latency_seconds_bucket{{{MAILER}, {otp_slo.GOOD_BUCKET_MATCHER}}}"
DELIVERED: Final = f"mailer_delivery_latency_seconds_count{{{MAILER}}}"
FAILED: Final = f"mailer_emails_total{{{MAILER}, {otp_slo.BAD_RESULTS_MATCHER}}}"


def sli_over_range() -> stat.Panel:
    """Show the SLI over the range on screen, red below the default objective."""
    return (
        stat_panel(
            "Codes mailed within 30 s (time range)",
            "Share of one-time codes the SMTP server accepted within 30 s of issue, over "
            "the dashboard's time range. Late, expired and dead-lettered codes count as bad.",
            "percentunit",
        )
        .thresholds(thresholds([(OTP_DELIVERY_SLO_OBJECTIVE, "green")], base="red"))
        .links(runbook_links("OtpDeliveryErrorBudgetBurn"))
        .decimals(2)
        .with_target(instant_query(otp_slo.delivered_in_time_ratio("$__range", MAILER), "SLI"))
    )


def budget_remaining() -> stat.Panel:
    """Show what is left of the 30-day error budget: how much risk we can still take."""
    spent = f"{otp_slo.recorded_error_ratio(otp_slo.SLO_PERIOD)}{NAMESPACE}"
    missed = RangeMap(
        DashboardRangeMapOptions(from_val=None, to=0, result=ValueMappingResult(color="red"))
    )
    return (
        stat_panel(
            "Error budget remaining (30 d)",
            "Share of the 30-day error budget (1 - objective) not yet spent; red and "
            "negative means the SLO is already missed for this period. From the 30-day "
            "error ratio recorded every 5 minutes (a shorter retention shortens the "
            "period to what is kept)." + NEEDS_RULES,
            "percentunit",
        )
        .thresholds(base_colour("green"))
        .mappings([missed])
        .decimals(1)
        .with_target(instant_query(f"1 - {spent} / {BUDGET}", "budget left"))
    )


def burn_rate() -> timeseries.Panel:
    """Plot burn per long window, with the ticket and page factors drawn as lines."""
    windows = sorted(
        (*otp_slo.TICKET_WINDOWS, *otp_slo.PAGE_WINDOWS), key=lambda w: w.factor.default
    )
    colours = ("yellow", "orange", "red", "dark-red")
    return (
        timeseries_panel(
            "Error budget burn rate",
            "How many times faster than sustainable the budget burns, per window, from the "
            "recording rules the OtpDeliveryErrorBudgetBurn alerts read. Dashed lines mark "
            "the ticket (1, 3) and page (6, 14.4) factors." + NEEDS_RULES,
            "short",
        )
        .thresholds(thresholds([(w.factor, c) for w, c in zip(windows, colours, strict=True)]))
        .thresholds_style(dashed_threshold_lines())
        .links(runbook_links("OtpDeliveryErrorBudgetBurn"))
        .targets(
            [
                query(f"{otp_slo.recorded_error_ratio(w)}{NAMESPACE} / {BUDGET}", w, ref_id)
                for w, ref_id in zip(BURN_WINDOWS, "ABCD", strict=True)
            ]
        )
    )


def sli_over_time() -> timeseries.Panel:
    """Plot the SLI over a short and a long window, against the objective."""
    return (
        timeseries_panel(
            "Codes mailed within 30 s (5 m and 1 h windows)",
            "The SLI over sliding 5-minute and 1-hour windows, from the recording rules; "
            "the dashed line is the objective the alerts use." + NEEDS_RULES,
            "percentunit",
        )
        .thresholds(thresholds([(OTP_DELIVERY_SLO_OBJECTIVE, "red")]))
        .thresholds_style(dashed_threshold_lines())
        .targets(
            [
                query(f"1 - {otp_slo.recorded_error_ratio(w)}{NAMESPACE}", w, ref_id)
                for w, ref_id in (("5m", "A"), ("1h", "B"))
            ]
        )
    )


def outcomes() -> timeseries.Panel:
    """Plot good and bad events side by side: what the ratio is made of."""
    return timeseries_panel(
        "Codes by outcome",
        "Codes per second mailed within 30 s, mailed later, and never mailed (expired "
        "or dead-lettered; empty while there were none).",
        "ops",
    ).targets(
        [
            query(f"sum(rate({GOOD}[{RATE}]))", "within 30 s", "A"),
            query(f"sum(rate({DELIVERED}[{RATE}])) - sum(rate({GOOD}[{RATE}]))", "later", "B"),
            query(f"sum by (result) (rate({FAILED}[{RATE}]))", "{{result}}", "C"),
        ]
    )


def received() -> timeseries.Panel:
    """Plot the demand side: codes arriving from Kafka per topic."""
    return timeseries_panel(
        "Codes received from Kafka",
        "Records the mailer fetched per second, by topic.",
        "ops",
    ).with_target(
        query(
            "sum by (topic) (rate(mailer_messages_received_total"
            f'{{{MAILER}, topic=~"$topic"}}[{RATE}]))',
            "{{topic}}",
        )
    )


def delivery_latency() -> timeseries.Panel:
    """Plot the latency behind the SLI; exemplars open a late code's trace."""
    return latency_panel(
        "Delivery latency (issued to accepted)",
        "p50/p95/p99 from issue to SMTP acceptance. The SLI counts the le=30 bucket, so "
        "the mailer's histogram must have a bucket boundary at exactly 30 s.",
        "mailer_delivery_latency_seconds_bucket",
        MAILER,
    )


def objective_variable() -> dashboard_builders.CustomVariable:
    """Preselect the objective the alerts use; the viewer may try a stricter one."""
    default = format_number(threshold_value(OTP_DELIVERY_SLO_OBJECTIVE))
    return (
        dashboard_builders.CustomVariable("objective")
        .label("Objective")
        .values(",".join(dict.fromkeys((default, *OBJECTIVES))))
        .current(VariableOption(selected=True, text=default, value=default))
    )


def _variables() -> list[variables.VariableBuilder]:
    """Offer the mailer job whose histogram holds the SLI, the topic, the objective."""
    return [
        variables.datasource_variable(),
        variables.namespace_variable(),
        variables.label_variable(
            "job",
            "job",
            'mailer_delivery_latency_seconds_count{namespace=~"$namespace"}',
            MAILER_JOB,
        ),
        variables.label_variable(
            "topic",
            "topic",
            'mailer_messages_received_total{namespace=~"$namespace", job=~"$job"}',
            TOPIC_SETTING,
        ),
        objective_variable(),
    ]


def slo_dashboard() -> dashboard.Dashboard:
    """Build the SLO dashboard: status first, then burn, then what it is made of."""
    board = new_dashboard(
        UID,
        "reelmail / OTP delivery SLO",
        "Share of one-time codes mailed within 30 s of issue, and the error-budget burn.",
        service="mailer",
    ).variables(_variables())
    sections: list[Section] = [
        ("Objective", [sli_over_range(), budget_remaining(), burn_rate()]),
        ("Indicator", [sli_over_time(), outcomes(), received(), delivery_latency()]),
    ]
    return built(with_sections(board, sections))
