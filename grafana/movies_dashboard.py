"""Movies API dashboard: requests, one-time codes, the outbox and Kafka publishing.

The path of a sign-in code through movies, in order: the HTTP request that asks for
it, the code issued and later verified, the outbox row that holds it, the publish
that hands it to Kafka. A stall shows up in the first row where numbers stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from grafana import dashboard_variables as variables
from grafana import thresholds as t
from grafana.dashboard_layout import Section, built, new_dashboard, with_sections
from grafana.panel_defaults import (
    RATE,
    count_up_panel,
    dashed_threshold_lines,
    latency_panel,
    query,
    runbook_links,
    share_or_zero,
    stat_panel,
    thresholds,
    timeseries_panel,
)
from grafana.rule_dialects import MOVIES_JOB
from grafana.rule_dialects import TOPIC as TOPIC_SETTING

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import stat, timeseries
    from grafana_foundation_sdk.models import dashboard

UID: Final = "reelmail-movies"
MOVIES: Final = 'job=~"$job", namespace=~"$namespace"'
TOPIC: Final = f'{MOVIES}, topic=~"$topic"'


def request_rate() -> timeseries.Panel:
    """Plot traffic per route template, the R of RED."""
    return timeseries_panel(
        "Request rate by route",
        "Requests per second by method and route template (the Prometheus plugin runs "
        "with group_path, so ids in paths do not explode the series).",
        "reqps",
    ).with_target(
        query(
            f"sum by (method, path) (rate(litestar_requests_total{{{MOVIES}}}[{RATE}]))",
            "{{method}} {{path}}",
        )
    )


def error_ratio() -> timeseries.Panel:
    """Plot the 5xx share per route, the E of RED and MoviesHttpErrorRatioHigh's input."""
    errors = (
        f'sum by (path) (rate(litestar_requests_total{{{MOVIES}, status_code=~"5.."}}[{RATE}]))'
    )
    total = f"sum by (path) (rate(litestar_requests_total{{{MOVIES}}}[{RATE}]))"
    return (
        timeseries_panel(
            "5xx ratio by route",
            "Share of responses with a 5xx status, per route template; zero when a route "
            "served requests without server errors.",
            "percentunit",
        )
        .thresholds(
            thresholds(
                [(t.HTTP_ERROR_RATIO_WARNING, "orange"), (t.HTTP_ERROR_RATIO_CRITICAL, "red")]
            )
        )
        .links(runbook_links("MoviesHttpErrorRatioHigh"))
        .with_target(query(share_or_zero(errors, total), "{{path}}"))
    )


def request_duration() -> timeseries.Panel:
    """Plot latency per route, the D of RED; exemplars open the slow request's trace."""
    buckets = f"litestar_request_duration_seconds_bucket{{{MOVIES}}}"
    return (
        timeseries_panel(
            "Request duration p95 by route",
            "95th percentile of request duration per route template, from the plugin's "
            "histogram (probes and scrapes are not in it); the dashed line is "
            "MoviesLatencyHigh's threshold. Exemplar dots link to traces.",
            "s",
        )
        .thresholds(thresholds([(t.HTTP_LATENCY_P95_SECONDS_WARNING, "orange")]))
        .thresholds_style(dashed_threshold_lines())
        .links(runbook_links("MoviesLatencyHigh"))
        .with_target(
            query(
                f"histogram_quantile(0.95, sum by (le, path) (rate({buckets}[{RATE}])))",
                "{{path}}",
            ).exemplar(exemplar=True)
        )
    )


def in_progress() -> timeseries.Panel:
    """Plot requests in flight; a climb without more traffic means a stall."""
    return timeseries_panel(
        "Requests in progress",
        "Requests the API is serving right now, summed over instances.",
        "short",
    ).with_target(query(f"sum(litestar_requests_in_progress{{{MOVIES}}})", "in progress"))


def targets_up() -> stat.Panel:
    """Count the movies instances Prometheus can scrape; zero is MoviesDown."""
    return count_up_panel(
        "Movies instances up",
        "movies scrape targets answering; at 0 nobody can sign in or browse.",
        f"up{{{MOVIES}}}",
        ["MoviesDown"],
    )


def rate_limited() -> timeseries.Panel:
    """Plot sign-in requests refused with 429, by bucket: abuse, or users sharing one."""
    return (
        timeseries_panel(
            "Sign-in requests refused (429) by limit",
            "Requests per second refused by a sign-in rate limit, by bucket. A steady "
            "codes_per_client stream behind an ingress usually means every user shares "
            "the proxy's address: set movies.trustedProxies.",
            "reqps",
        )
        .span(18)
        .with_target(
            query(
                f"sum by (bucket) (rate(movies_rate_limited_total{{{MOVIES}}}[{RATE}]))",
                "{{bucket}}",
            )
        )
    )


def codes_issued() -> timeseries.Panel:
    """Plot codes created per purpose: the demand the mailer has to meet."""
    return timeseries_panel(
        "One-time codes issued by purpose",
        "Codes issued per second by purpose (login, signup, email_change).",
        "ops",
    ).with_target(
        query(
            f"sum by (purpose) (rate(movies_otp_codes_issued_total{{{MOVIES}}}[{RATE}]))",
            "{{purpose}}",
        )
    )


def verifications() -> timeseries.Panel:
    """Plot how code checks end; more expired codes means mails arrive too late."""
    return timeseries_panel(
        "Code verifications by result",
        "Verification attempts per second by result. More expired or unknown codes "
        "than usual often means mails arrive late or not at all.",
        "ops",
    ).with_target(
        query(
            f"sum by (result) (rate(movies_otp_verifications_total{{{MOVIES}}}[{RATE}]))",
            "{{result}}",
        )
    )


def outbox_pending() -> timeseries.Panel:
    """Plot codes stored but not yet handed to Kafka."""
    return (
        timeseries_panel(
            "Outbox backlog",
            "Outbox rows not yet published to Kafka, summed over instances.",
            "short",
        )
        .span(18)
        .with_target(query(f"sum(movies_outbox_pending_messages{{{MOVIES}}})", "pending"))
    )


def outbox_age() -> stat.Panel:
    """Show how late the oldest unpublished code already is, at the alert thresholds."""
    return (
        stat_panel(
            "Oldest outbox row",
            "Age of the oldest unpublished outbox row; MoviesOutboxOldestAgeHigh fires "
            "at the orange and red thresholds.",
            "s",
        )
        .thresholds(
            thresholds(
                [
                    (t.OUTBOX_OLDEST_AGE_SECONDS_WARNING, "orange"),
                    (t.OUTBOX_OLDEST_AGE_SECONDS_CRITICAL, "red"),
                ]
            )
        )
        .links(runbook_links("MoviesOutboxOldestAgeHigh"))
        .with_target(query(f"max(movies_outbox_oldest_age_seconds{{{MOVIES}}})", "oldest"))
    )


def publish_rate() -> timeseries.Panel:
    """Plot publishes per topic and result: the hand-over to the mailer."""
    return timeseries_panel(
        "Kafka publish rate by result",
        "Publishes per second by topic and result (ok or an error kind).",
        "ops",
    ).with_target(
        query(
            f"sum by (topic, result) (rate(movies_kafka_publish_total{{{TOPIC}}}[{RATE}]))",
            "{{topic}} {{result}}",
        )
    )


def publish_latency() -> timeseries.Panel:
    """Plot time to the broker's acks=all answer; exemplars open the publish trace."""
    return latency_panel(
        "Kafka publish latency",
        "p50/p95/p99 of one publish until the broker acknowledged it (acks=all).",
        "movies_kafka_publish_duration_seconds_bucket",
        TOPIC,
    )


def publish_error_ratio() -> timeseries.Panel:
    """Plot the share of failed publishes, the MoviesKafkaPublishFailing input."""
    failed = f'sum by (topic) (rate(movies_kafka_publish_total{{{TOPIC}, result!="ok"}}[{RATE}]))'
    total = f"sum by (topic) (rate(movies_kafka_publish_total{{{TOPIC}}}[{RATE}]))"
    return (
        timeseries_panel(
            "Kafka publish error ratio",
            "Share of publishes whose result is not ok, per topic; zero when all succeeded.",
            "percentunit",
        )
        .thresholds(thresholds([(t.PUBLISH_FAILURE_RATIO_WARNING, "red")]))
        .links(runbook_links("MoviesKafkaPublishFailing"))
        .with_target(query(share_or_zero(failed, total), "{{topic}}"))
    )


def _variables() -> list[variables.VariableBuilder]:
    """Offer the movies job and the topic it publishes codes to."""
    return [
        variables.datasource_variable(),
        variables.namespace_variable(),
        variables.label_variable(
            "job", "job", 'litestar_requests_total{namespace=~"$namespace"}', MOVIES_JOB
        ),
        variables.label_variable(
            "topic",
            "topic",
            'movies_kafka_publish_total{namespace=~"$namespace", job=~"$job"}',
            TOPIC_SETTING,
        ),
    ]


def movies_dashboard() -> dashboard.Dashboard:
    """Build the movies dashboard, following a sign-in code through the service."""
    board = new_dashboard(
        UID,
        "reelmail / Movies API",
        "Requests, one-time codes, the outbox and Kafka publishing of the movies service.",
        service="movies",
    ).variables(_variables())
    sections: list[Section] = [
        ("HTTP", [request_rate(), error_ratio(), request_duration(), in_progress()]),
        ("Availability and limits", [rate_limited(), targets_up()]),
        ("One-time codes", [codes_issued(), verifications()]),
        ("Outbox", [outbox_pending(), outbox_age()]),
        ("Kafka publish", [publish_rate(), publish_latency(), publish_error_ratio()]),
    ]
    return built(with_sections(board, sections))
