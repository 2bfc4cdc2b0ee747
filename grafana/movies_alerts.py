"""Alerts on the movies API: failing requests, and codes that never reach Kafka.

A code that movies cannot publish is as lost to the user as one the mailer cannot
send, so publish failures and a stuck outbox page here rather than on the mailer.
Publishes count as failed when their ``result`` label is anything but ``ok``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grafana import rule_selectors as select
from grafana import thresholds as t
from grafana.rule_model import AlertRule, Severity

if TYPE_CHECKING:
    from grafana.rule_dialects import RuleDialect
    from grafana.thresholds import Threshold


def publish_failing(d: RuleDialect) -> AlertRule:
    """Warn when publishes to Kafka fail, so codes pile up in the outbox or are lost."""
    limit = d.threshold(t.PUBLISH_FAILURE_RATIO_WARNING)
    failed = select.movies(d, 'result!="ok"')
    return AlertRule(
        alert="MoviesKafkaPublishFailing",
        expr=(
            f"sum by (namespace, topic) (rate(movies_kafka_publish_total{{{failed}}}[5m]))\n"
            "/\nsum by (namespace, topic) "
            f"(rate(movies_kafka_publish_total{{{select.movies(d)}}}[5m]))\n"
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
        expr=(
            f"max by (namespace) (movies_outbox_oldest_age_seconds{{{select.movies(d)}}})"
            f" > {d.threshold(limit)}"
        ),
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
    errors = select.movies(d, 'status_code=~"5.."')
    return AlertRule(
        alert="MoviesHttpErrorRatioHigh",
        expr=(
            f"sum by (namespace) (rate(litestar_requests_total{{{errors}}}[5m]))\n"
            f"/\nsum by (namespace) (rate(litestar_requests_total{{{select.movies(d)}}}[5m]))\n"
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


def movies_down(d: RuleDialect) -> AlertRule:
    """Page when no movies instance answers its scrape: nobody can sign in or browse."""
    up = f"up{{{select.movies(d)}}}"
    minimum = d.threshold(t.INSTANCES_UP_MINIMUM)
    return AlertRule(
        alert="MoviesDown",
        expr=(
            f"(\n  count({up} == 0)\nor\n  {select.absent_as_one(up)}\n)\n"
            f"unless on () count({up} == 1) >= {minimum}"
        ),
        for_="2m",
        severity="critical",
        service="movies",
        summary="No movies instance is running",
        description=(
            f"No target of the movies scrape job has been up for 2 minutes "
            f"({d.template('$value')} down, 1 when Prometheus finds none): sign-in and the "
            "catalogue are unavailable."
        ),
    )


def latency_high(d: RuleDialect) -> AlertRule:
    """Warn when the API is slow for real requests (probes are not in the histogram)."""
    limit = d.threshold(t.HTTP_LATENCY_P95_SECONDS_WARNING)
    buckets = f"litestar_request_duration_seconds_bucket{{{select.movies(d)}}}"
    return AlertRule(
        alert="MoviesLatencyHigh",
        expr=(
            f"histogram_quantile(0.95,\n  sum by (namespace, le) (rate({buckets}[5m]))\n) > {limit}"
        ),
        for_="10m",
        severity="warning",
        service="movies",
        summary="The movies API is slow",
        description=(
            f"95 % of movies API requests took up to {d.template('$value | humanizeDuration')} "
            f"over 5 minutes (threshold {limit} s)."
        ),
    )


def no_message_for_too_long(d: RuleDialect) -> AlertRule:
    """Warn when no code reaches the topic for long: whatever stops sign-ins upstream.

    Read from the broker (kafka-exporter's partition offsets), so it also fires when
    movies is gone or cannot publish; quiet installations raise the threshold. The
    topic must have been reported a whole window ago: ``changes`` over the few samples
    of a freshly started exporter (or Prometheus) is 0 too, and is no silent hour.
    """
    minutes = d.threshold(t.NO_MESSAGE_PRODUCED_MINUTES)
    offsets = f"kafka_topic_partition_current_offset{{{select.topic(d)}}}"
    return AlertRule(
        alert="OtpTopicNoMessageForTooLong",
        expr=(
            f"max by (topic) (changes({offsets}[{minutes}m])) == 0\n"
            f"and on (topic)\nmax by (topic) ({offsets} offset {minutes}m)"
        ),
        severity="warning",
        service="movies",
        summary=f"No one-time code reached {d.template('$labels.topic')} for {minutes} minutes",
        description=(
            f"No record was written to {d.template('$labels.topic')} for {minutes} minutes "
            f"({d.template('$value')} offset changes): nobody is signing in, or movies "
            "cannot issue or publish codes."
        ),
    )


def movies_rules(d: RuleDialect) -> tuple[AlertRule, ...]:
    """List availability, publish failures, outbox age, 5xx ratio, latency and silence."""
    return (
        movies_down(d),
        publish_failing(d),
        _outbox_age(d, "warning", t.OUTBOX_OLDEST_AGE_SECONDS_WARNING),
        _outbox_age(d, "critical", t.OUTBOX_OLDEST_AGE_SECONDS_CRITICAL),
        _http_errors(d, "warning", t.HTTP_ERROR_RATIO_WARNING),
        _http_errors(d, "critical", t.HTTP_ERROR_RATIO_CRITICAL),
        latency_high(d),
        no_message_for_too_long(d),
    )
