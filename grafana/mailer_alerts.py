"""Alerts on the mail consumer: lag, liveness and delivery failures.

Lag comes from the mailer's own gauges, which see the age of the oldest waiting record.
A dead mailer exports nothing, though, so liveness is judged from ``up`` and from
kafka-exporter's view of the consumer group, which survive it.
"""

from __future__ import annotations

from grafana import thresholds as t
from grafana.rule_dialects import RuleDialect
from grafana.rule_model import AlertRule, Severity
from grafana.thresholds import Threshold

GROUP = 'consumergroup="mailer"'


def _lag_seconds(d: RuleDialect, severity: Severity, limit: Threshold, for_: str) -> AlertRule:
    """Alert when codes wait too long: the one symptom users feel, whatever the cause."""
    return AlertRule(
        alert="MailerConsumerLagSecondsHigh",
        expr=f"max by (namespace, topic) (mailer_consumer_lag_seconds) > {d.threshold(limit)}",
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
            "  max by (namespace, topic, partition) (mailer_consumer_lag_messages)\n"
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
            f"sum by (namespace, topic) (deriv(mailer_consumer_lag_messages[10m])) * 60 > {limit}"
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
    """
    return AlertRule(
        alert="MailerDown",
        expr=(
            "(\n"
            f"  sum(kafka_consumergroup_lag{{{GROUP}}}) > 0\n"
            "or\n"
            f"  absent(kafka_consumergroup_lag{{{GROUP}}})\n"
            ")\n"
            'and on () absent(up{job="mailer"} == 1)'
        ),
        for_="2m",
        severity="critical",
        service="mailer",
        summary="No mailer is running",
        description=(
            'No target of scrape job "mailer" has been up for 2 minutes; kafka-exporter '
            f"counts {d.template('$value')} records waiting (1 when it reports nothing). "
            "No one-time code is being mailed."
        ),
    )


def group_empty(d: RuleDialect) -> AlertRule:
    """Alert from the broker's view: nobody is in the group although records wait for it."""
    return AlertRule(
        alert="MailerConsumerGroupEmpty",
        expr=(
            f"sum by (consumergroup, topic) (kafka_consumergroup_lag{{{GROUP}}}) > 0\n"
            "and on (consumergroup)\n"
            f"max by (consumergroup) (kafka_consumergroup_members{{{GROUP}}}) == 0"
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


def availability_rules(d: RuleDialect) -> tuple[AlertRule, ...]:
    """Alerts that must work when the mailer exports nothing at all."""
    return (mailer_down(d), group_empty(d))


def send_failure_ratio(d: RuleDialect) -> AlertRule:
    """Warn when SMTP attempts fail: retried now, late or dead-lettered later."""
    attempts = 'mailer_emails_total{result=~"sent|retried|dead_lettered"}'
    failures = 'mailer_emails_total{result=~"retried|dead_lettered"}'
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
    return AlertRule(
        alert="MailerDeadLettersAppearing",
        expr=(
            "sum by (namespace, reason) (increase(mailer_dead_letters_total[10m]))"
            f" > {limit}\nor\nsum by (namespace, reason) (\n"
            "  mailer_dead_letters_total unless mailer_dead_letters_total offset 10m\n"
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
    return (send_failure_ratio(d), dead_letters(d))
