"""Alerts on the movies API: failing requests, and codes that never reach Kafka.

A code that movies cannot publish is as lost to the user as one the mailer cannot
send, so publish failures and a stuck outbox page here rather than on the mailer.
Publishes count as failed when their ``result`` label is anything but ``ok``.
"""

from __future__ import annotations

from grafana import thresholds as t
from grafana.rule_dialects import RuleDialect
from grafana.rule_model import AlertRule, Severity
from grafana.thresholds import Threshold

REQUESTS = 'litestar_requests_total{job="movies"'


def publish_failing(d: RuleDialect) -> AlertRule:
    """Warn when publishes to Kafka fail, so codes pile up in the outbox or are lost."""
    limit = d.threshold(t.PUBLISH_FAILURE_RATIO_WARNING)
    return AlertRule(
        alert="MoviesKafkaPublishFailing",
        expr=(
            'sum by (namespace, topic) (rate(movies_kafka_publish_total{result!="ok"}[5m]))\n'
            "/\nsum by (namespace, topic) (rate(movies_kafka_publish_total[5m]))\n"
            f"> {limit}"
        ),
        for_="5m",
        severity="warning",
        service="movies",
        summary=f"Publishing to {d.template('$labels.topic')} fails",
        description=(
            f"{d.template('$value | humanizePercentage')} of publishes to "
            f"{d.template('$labels.topic')} failed over 5 minutes (threshold {limit})."
        ),
    )


def _outbox_age(d: RuleDialect, severity: Severity, limit: Threshold) -> AlertRule:
    """Alert when codes sit in the outbox: they reach the user late, or expire first."""
    return AlertRule(
        alert="MoviesOutboxOldestAgeHigh",
        expr=f"max by (namespace) (movies_outbox_oldest_age_seconds) > {d.threshold(limit)}",
        for_="2m",
        severity=severity,
        service="movies",
        summary="Codes are stuck in the movies outbox",
        description=(
            f"The oldest unpublished outbox row is {d.template('$value | humanizeDuration')} "
            f"old (threshold {d.threshold(limit)} s)."
        ),
    )


def _http_errors(d: RuleDialect, severity: Severity, limit: Threshold) -> AlertRule:
    """Alert when the API answers with server errors; sign-in and browsing break."""
    return AlertRule(
        alert="MoviesHttpErrorRatioHigh",
        expr=(
            f'sum by (namespace) (rate({REQUESTS}, status_code=~"5.."}}[5m]))\n'
            f"/\nsum by (namespace) (rate({REQUESTS}}}[5m]))\n"
            f"> {d.threshold(limit)}"
        ),
        for_="5m",
        severity=severity,
        service="movies",
        summary="The movies API returns server errors",
        description=(
            f"{d.template('$value | humanizePercentage')} of movies API responses were 5xx "
            f"over 5 minutes (threshold {d.threshold(limit)})."
        ),
    )


def movies_rules(d: RuleDialect) -> tuple[AlertRule, ...]:
    """List publish failures, outbox age and 5xx ratio, the last two at two severities."""
    return (
        publish_failing(d),
        _outbox_age(d, "warning", t.OUTBOX_OLDEST_AGE_SECONDS_WARNING),
        _outbox_age(d, "critical", t.OUTBOX_OLDEST_AGE_SECONDS_CRITICAL),
        _http_errors(d, "warning", t.HTTP_ERROR_RATIO_WARNING),
        _http_errors(d, "critical", t.HTTP_ERROR_RATIO_CRITICAL),
    )
