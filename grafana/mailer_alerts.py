"""Alerts on the mail consumer: lag, liveness and delivery failures.

Lag comes from the mailer's own gauges, which see the age of the oldest waiting record.
A dead mailer exports nothing, though, so liveness is judged from ``up`` and from
kafka-exporter's view of the consumer group, which survive it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grafana import rule_selectors as select
from grafana import thresholds as t
from grafana.rule_dialects import NAMESPACE, SCALED_OBJECT, RuleDialect
from grafana.rule_model import AlertRule, Severity

if TYPE_CHECKING:
    from grafana.thresholds import Threshold

RELAY_OUTAGE_REASONS = "unreachable|timeout|tls_failed"


def _lag_seconds(d: RuleDialect, severity: Severity, limit: Threshold, for_: str) -> AlertRule:
    """Alert when codes wait too long: the one symptom users feel, whatever the cause."""
    return AlertRule(
        alert="MailerConsumerLagSecondsHigh",
        expr=(
            f"max by (namespace, topic) (mailer_consumer_lag_seconds{{{select.mailer(d)}}})"
            f" > {d.threshold(limit)}"
        ),
        for_=for_,
        severity=severity,
        service="mailer",
        summary=f"Mailer is behind on {d.template('$labels.topic')}",
        description=(
            f"The oldest unprocessed record on {d.template('$labels.topic')} is "
            f"{d.template('$value | humanizeDuration')} old (threshold {d.threshold(limit)} s): "
            "users are waiting for their one-time codes."
        ),
    )


def _lag_messages(d: RuleDialect, severity: Severity, limit: Threshold) -> AlertRule:
    """Alert on a backlog by count, deduplicated per partition while a rebalance moves it."""
    return AlertRule(
        alert="MailerConsumerLagMessagesHigh",
        expr=(
            "sum by (namespace, topic) (\n"
            "  max by (namespace, topic, partition) "
            f"(mailer_consumer_lag_messages{{{select.mailer(d)}}})\n"
            f") > {d.threshold(limit)}"
        ),
        for_="5m",
        severity=severity,
        service="mailer",
        summary=f"Mail backlog on {d.template('$labels.topic')}",
        description=(
            f"{d.template('$value | humanize')} records wait on {d.template('$labels.topic')} "
            f"(threshold {d.threshold(limit)})."
        ),
    )


def lag_rules(d: RuleDialect) -> tuple[AlertRule, ...]:
    """Lag in seconds and in records, each at warning and critical, and lag growth."""
    return (
        _lag_seconds(d, "warning", t.CONSUMER_LAG_SECONDS_WARNING, "1m"),
        _lag_seconds(d, "critical", t.CONSUMER_LAG_SECONDS_CRITICAL, "2m"),
        _lag_messages(d, "warning", t.CONSUMER_LAG_MESSAGES_WARNING),
        _lag_messages(d, "critical", t.CONSUMER_LAG_MESSAGES_CRITICAL),
        lag_growing(d),
    )


def lag_growing(d: RuleDialect) -> AlertRule:
    """Warn that the mailer sends slower than movies publishes, before the backlog is large."""
    limit = d.threshold(t.CONSUMER_LAG_GROWTH_PER_MINUTE)
    return AlertRule(
        alert="MailerConsumerLagGrowing",
        expr=(
            "sum by (namespace, topic) "
            f"(deriv(mailer_consumer_lag_messages{{{select.mailer(d)}}}[10m])) * 60 > {limit}"
        ),
        for_="10m",
        severity="warning",
        service="mailer",
        summary=f"Mail backlog on {d.template('$labels.topic')} keeps growing",
        description=(
            f"Lag on {d.template('$labels.topic')} has grown by "
            f"{d.template('$value | humanize')} records per minute for more than 10 minutes "
            f"(threshold {limit})."
        ),
    )


def mailer_down(d: RuleDialect) -> AlertRule:
    """Alert when no mailer answers its scrape while work is, or may be, waiting.

    Idle with the group's lag at zero is not an outage (KEDA may scale to zero); with
    kafka-exporter absent the lag is unknown and the alert errs on the side of firing.
    The ``up`` selector carries the installation's namespace, so another installation's
    mailer being up does not hide this one being gone.
    """
    lag = f"kafka_consumergroup_lag{{{select.consumer_group(d)}}}"
    minimum = d.threshold(t.INSTANCES_UP_MINIMUM)
    return AlertRule(
        alert="MailerDown",
        expr=(
            "(\n"
            f"  sum({lag}) > 0\n"
            "or\n"
            f"  {select.absent_as_one(lag)}\n"
            ")\n"
            f"unless on () count(up{{{select.mailer(d)}}} == 1) >= {minimum}"
        ),
        for_="2m",
        severity="critical",
        service="mailer",
        summary="No mailer is running",
        description=(
            "No target of the mailer's scrape job has been up for 2 minutes; kafka-exporter "
            f"counts {d.template('$value')} records waiting (1 when it reports nothing). "
            "No one-time code is being mailed."
        ),
    )


def group_empty(d: RuleDialect) -> AlertRule:
    """Alert from the broker's view: nobody is in the group although records wait for it."""
    group = select.consumer_group(d)
    return AlertRule(
        alert="MailerConsumerGroupEmpty",
        expr=(
            f"sum by (consumergroup, topic) (kafka_consumergroup_lag{{{group}}}) > 0\n"
            "and on (consumergroup)\n"
            f"max by (consumergroup) (kafka_consumergroup_members{{{group}}}) == 0"
        ),
        for_="2m",
        severity="critical",
        service="mailer",
        summary=f"Consumer group {d.template('$labels.consumergroup')} has no members",
        description=(
            f"Consumer group {d.template('$labels.consumergroup')} has no members while "
            f"{d.template('$value | humanize')} records wait on {d.template('$labels.topic')}."
        ),
    )


def not_ready(d: RuleDialect) -> AlertRule:
    """Warn when mailer pods say they cannot work: not joined, or the relay refuses them."""
    return AlertRule(
        alert="MailerNotReady",
        expr=f"count by (namespace) (mailer_ready{{{select.mailer(d)}}} == 0)",
        for_="10m",
        severity="warning",
        service="mailer",
        summary="Mailer pods are not ready",
        description=(
            f"{d.template('$value')} mailer pods have reported themselves not ready for 10 "
            "minutes (not joined to the consumer group, or the relay rejects them); their "
            "/readyz body says why."
        ),
    )


def credentials_rejected(d: RuleDialect) -> AlertRule:
    """Page when the relay refuses our AUTH: a configuration fault no retry can fix."""
    return AlertRule(
        alert="MailerSmtpCredentialsRejected",
        expr=f"count by (namespace) (mailer_smtp_credentials_rejected{{{select.mailer(d)}}} == 1)",
        for_="2m",
        severity="critical",
        service="mailer",
        summary="The SMTP relay rejects the mailer's credentials",
        description=(
            f"The relay has rejected the AUTH of {d.template('$value')} mailer pods for 2 "
            "minutes: no mail leaves them until SMTP_USERNAME/SMTP_PASSWORD are fixed."
        ),
    )


def relay_failing(d: RuleDialect) -> AlertRule:
    """Warn on a relay outage, which on purpose does not make the mailer unready."""
    limit = d.threshold(t.SMTP_CONNECTION_FAILURES_WARNING)
    failures = select.mailer(d, f'reason=~"{RELAY_OUTAGE_REASONS}"')
    return AlertRule(
        alert="MailerSmtpConnectionFailing",
        expr=(
            "sum by (namespace, reason) "
            f"(increase(mailer_smtp_connection_failures_total{{{failures}}}[5m])) > {limit}"
        ),
        for_="5m",
        severity="warning",
        service="mailer",
        summary=f"Connections to the SMTP relay fail ({d.template('$labels.reason')})",
        description=(
            f"{d.template('$value | humanize')} connections to the relay failed with "
            f"{d.template('$labels.reason')} in 5 minutes (threshold {limit}); mails wait "
            "and are retried."
        ),
    )


def availability_rules(d: RuleDialect) -> tuple[AlertRule, ...]:
    """Alerts on the mailer being able to work; the first two survive it exporting nothing."""
    return (mailer_down(d), group_empty(d), not_ready(d), credentials_rejected(d))


def send_failure_ratio(d: RuleDialect) -> AlertRule:
    """Warn when SMTP attempts fail: retried now, late or dead-lettered later."""
    attempted = select.mailer(d, 'result=~"sent|retried|dead_lettered"')
    failed = select.mailer(d, 'result=~"retried|dead_lettered"')
    attempts = f"mailer_emails_total{{{attempted}}}"
    failures = f"mailer_emails_total{{{failed}}}"
    return AlertRule(
        alert="MailerSendFailureRatioHigh",
        expr=(
            f"sum by (namespace) (rate({failures}[5m]))\n"
            f"/\nsum by (namespace) (rate({attempts}[5m]))\n"
            f"> {d.threshold(t.SEND_FAILURE_RATIO_WARNING)}"
        ),
        for_="5m",
        severity="warning",
        service="mailer",
        summary="SMTP sends are failing",
        description=(
            f"{d.template('$value | humanizePercentage')} of SMTP send attempts failed over "
            f"5 minutes (threshold {d.threshold(t.SEND_FAILURE_RATIO_WARNING)})."
        ),
    )


def dead_letters(d: RuleDialect) -> AlertRule:
    """Warn on every dead letter: each is a code a user never got.

    A counter child is created at its first increment, so ``increase`` cannot see a
    reason's first dead letter; the ``unless ... offset`` half catches series that are
    younger than the window.
    """
    limit = d.threshold(t.DEAD_LETTERS_WARNING)
    series = f"mailer_dead_letters_total{{{select.mailer(d)}}}"
    return AlertRule(
        alert="MailerDeadLettersAppearing",
        expr=(
            f"sum by (namespace, reason) (increase({series}[10m]))"
            f" > {limit}\nor\nsum by (namespace, reason) (\n"
            f"  {series} unless {series} offset 10m\n"
            f") > {limit}"
        ),
        severity="warning",
        service="mailer",
        summary=f"Mails are dead-lettered ({d.template('$labels.reason')})",
        description=(
            f"{d.template('$value | humanize')} records were dead-lettered with reason "
            f"{d.template('$labels.reason')} in the last 10 minutes (threshold {limit})."
        ),
    )


def delivery_rules(d: RuleDialect) -> tuple[AlertRule, ...]:
    """Alerts on mails that fail rather than wait."""
    return (send_failure_ratio(d), dead_letters(d), relay_failing(d))


def _keda_errors(d: RuleDialect) -> str:
    """KEDA's error counter of our ScaledObject, by either name its namespace label has."""
    scaled_object = f'scaledObject="{d.setting(SCALED_OBJECT)}"'
    namespace = d.setting(NAMESPACE)
    if not namespace:
        return f"increase(keda_scaled_object_errors_total{{{scaled_object}}}[5m])"
    return "\n  or\n  ".join(
        f'increase(keda_scaled_object_errors_total{{{scaled_object}, {label}="{namespace}"}}[5m])'
        for label in select.KEDA_NAMESPACE_LABELS
    )


def keda_failing(d: RuleDialect) -> AlertRule:
    """Warn when KEDA cannot read the lag: it soon scales on its fallback, not on work."""
    limit = d.threshold(t.KEDA_SCALER_ERRORS_WARNING)
    return AlertRule(
        alert="MailerKedaScalerFailing",
        expr=f"sum by (scaledObject) (\n  {_keda_errors(d)}\n) > {limit}",
        for_="5m",
        severity="warning",
        service="mailer",
        summary=f"KEDA cannot read the mailer's lag ({d.template('$labels.scaledObject')})",
        description=(
            f"KEDA failed {d.template('$value | humanize')} times in 5 minutes to read the "
            f"consumer lag of ScaledObject {d.template('$labels.scaledObject')} (threshold "
            f"{limit}). After fallback.failureThreshold failures in a row it holds "
            "fallback.replicas (or the current count) and no longer follows the backlog."
        ),
    )


def autoscaling_rules(d: RuleDialect) -> tuple[AlertRule, ...]:
    """Alerts on the lag-based autoscaler; the chart installs them only with KEDA on."""
    return (keda_failing(d),)
