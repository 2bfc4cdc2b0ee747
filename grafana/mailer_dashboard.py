"""Mailer dashboard: is the consumer keeping up, and are the mails going out.

Read top to bottom during an incident: lag (the symptom), sending (the usual cause),
readiness and the relay, the autoscaler, latency and concurrency (where time goes),
then kafka-exporter's view of the consumer group and the topic, which is still there
when the mailer itself exports nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from grafana import dashboard_variables as variables
from grafana import thresholds as t
from grafana.dashboard_layout import Section, built, new_dashboard, with_sections
from grafana.panel_defaults import (
    RATE,
    count_up_panel,
    heatmap_panel,
    latency_panel,
    query,
    runbook_links,
    share_or_zero,
    stat_panel,
    thresholds,
    timeseries_panel,
)
from grafana.rule_dialects import CONSUMER_GROUP, MAILER_JOB
from grafana.rule_dialects import TOPIC as TOPIC_SETTING
from grafana.rule_selectors import KEDA_NAMESPACE_LABELS

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import heatmap, stat, timeseries
    from grafana_foundation_sdk.models import dashboard

UID: Final = "reelmail-mailer"
MAILER: Final = 'job=~"$job", namespace=~"$namespace"'
TOPIC: Final = f'{MAILER}, topic=~"$topic"'
EXPORTER: Final = 'job=~"$exporter_job", consumergroup=~"$consumergroup"'
ATTEMPTS: Final = f'mailer_emails_total{{{MAILER}, result=~"sent|retried|dead_lettered"}}'
FAILURES: Final = f'mailer_emails_total{{{MAILER}, result=~"retried|dead_lettered"}}'


def lag_per_partition() -> timeseries.Panel:
    """Plot which partitions are behind: one stuck partition means one stuck record."""
    return (
        timeseries_panel(
            "Lag per partition (records)",
            "Records not yet processed per partition (high watermark minus committed offset), "
            "as the mailer sees it. A single rising partition points at one stuck record.",
            "short",
        )
        .span(9)
        .with_target(
            query(
                f"max by (topic, partition) (mailer_consumer_lag_messages{{{TOPIC}}})",
                "{{topic}}/{{partition}}",
            )
        )
    )


def total_lag() -> stat.Panel:
    """Show the backlog at a glance, coloured at the alert thresholds."""
    return (
        stat_panel(
            "Total lag (records)",
            "Records waiting across all partitions of the topic; turns orange and red at "
            "the MailerConsumerLagMessagesHigh warning and critical defaults.",
            "short",
        )
        .thresholds(
            thresholds(
                [
                    (t.CONSUMER_LAG_MESSAGES_WARNING, "orange"),
                    (t.CONSUMER_LAG_MESSAGES_CRITICAL, "red"),
                ]
            )
        )
        .links(runbook_links("MailerConsumerLagMessagesHigh"))
        .with_target(
            query(
                "sum by (topic) (max by (topic, partition) "
                f"(mailer_consumer_lag_messages{{{TOPIC}}}))",
                "{{topic}}",
            )
        )
    )


def lag_seconds() -> timeseries.Panel:
    """Plot how long the oldest waiting code has waited: what the user feels."""
    return (
        timeseries_panel(
            "Lag per partition (seconds)",
            "Age of the oldest unprocessed record per partition. Codes are useless to "
            "users after a minute or two; MailerConsumerLagSecondsHigh fires on this.",
            "s",
        )
        .span(9)
        .thresholds(
            thresholds(
                [
                    (t.CONSUMER_LAG_SECONDS_WARNING, "orange"),
                    (t.CONSUMER_LAG_SECONDS_CRITICAL, "red"),
                ]
            )
        )
        .links(runbook_links("MailerConsumerLagSecondsHigh"))
        .with_target(
            query(
                f"max by (topic, partition) (mailer_consumer_lag_seconds{{{TOPIC}}})",
                "{{topic}}/{{partition}}",
            )
        )
    )


def send_rate() -> timeseries.Panel:
    """Plot throughput by outcome: sent should dominate; retried means SMTP trouble."""
    return timeseries_panel(
        "Send rate by result",
        "Records finished per second by result: sent, retried (transient SMTP failure), "
        "dead_lettered (permanent failure), expired (code too old to send), invalid.",
        "ops",
    ).with_target(
        query(f"sum by (result) (rate(mailer_emails_total{{{MAILER}}}[{RATE}]))", "{{result}}")
    )


def failure_ratio() -> timeseries.Panel:
    """Plot the share of failed SMTP attempts, the MailerSendFailureRatioHigh input."""
    failed = f"sum(rate({FAILURES}[{RATE}]))"
    attempted = f"sum(rate({ATTEMPTS}[{RATE}]))"
    return (
        timeseries_panel(
            "SMTP failure ratio",
            "Failed SMTP attempts (retried or dead-lettered) over all attempts; zero when "
            "every attempt succeeded.",
            "percentunit",
        )
        .thresholds(thresholds([(t.SEND_FAILURE_RATIO_WARNING, "red")]))
        .links(runbook_links("MailerSendFailureRatioHigh"))
        .with_target(query(share_or_zero(failed, attempted), "failure ratio"))
    )


def dead_letter_rate() -> timeseries.Panel:
    """Plot records given up on, by reason: each is a code a user never got."""
    return (
        timeseries_panel(
            "Dead-letter rate by reason",
            "Records sent to the dead-letter topic per second, by reason. Empty while "
            "nothing has been dead-lettered since the mailer started.",
            "ops",
        )
        .links(runbook_links("MailerDeadLettersAppearing"))
        .with_target(
            query(
                f"sum by (reason) (rate(mailer_dead_letters_total{{{MAILER}}}[{RATE}]))",
                "{{reason}}",
            )
        )
    )


def received_rate() -> timeseries.Panel:
    """Plot what arrives from Kafka, to compare with what leaves by SMTP."""
    return timeseries_panel(
        "Records received",
        "Records fetched from Kafka per second, by topic; compare with the send rate.",
        "ops",
    ).with_target(
        query(
            f"sum by (topic) (rate(mailer_messages_received_total{{{TOPIC}}}[{RATE}]))",
            "{{topic}}",
        )
    )


def smtp_latency() -> timeseries.Panel:
    """Plot time inside the SMTP conversation; exemplars open the trace of a slow send."""
    return latency_panel(
        "SMTP send latency",
        "p50/p95/p99 of one SMTP send (connection from the pool to the server's 250). "
        "Exemplar dots link to the trace of that send.",
        "mailer_smtp_send_duration_seconds_bucket",
        MAILER,
    )


def delivery_latency() -> timeseries.Panel:
    """Plot code issued to SMTP accepted, end to end: the number the SLO is about."""
    return latency_panel(
        "Delivery latency (issued to accepted)",
        "p50/p95/p99 from the code's issued_at to the SMTP server accepting the mail; "
        "includes publish, Kafka, lag and retries. The SLO target is 30 s.",
        "mailer_delivery_latency_seconds_bucket",
        MAILER,
    )


def inflight() -> timeseries.Panel:
    """Plot records being worked on; flat at the limit means the mailer is saturated."""
    return (
        timeseries_panel(
            "In-flight records",
            "Records the mailer has fetched and not yet finished, summed over instances.",
            "short",
        )
        .span(18)
        .with_target(query(f"sum(mailer_inflight_messages{{{MAILER}}})", "in flight"))
    )


def targets_up() -> stat.Panel:
    """Count the mailer instances Prometheus can scrape; zero is MailerDown."""
    return count_up_panel(
        "Mailer instances up",
        "Mailer scrape targets answering; when this is 0 the panels above go empty "
        "and only the kafka-exporter row below still shows the group.",
        f"up{{{MAILER}}}",
        ["MailerDown"],
    )


def duplicates_suppressed() -> timeseries.Panel:
    """Plot repeats not sent again: a redelivery after a crash or rebalance, absorbed."""
    return timeseries_panel(
        "Duplicates suppressed",
        "Records not mailed because this mailer had already sent their message id "
        "within the dedup window: Kafka redelivered them (a crash, a rebalance, a retry "
        "of a publish), and the user got one mail, not two.",
        "ops",
    ).with_target(
        query(f"sum(rate(mailer_duplicates_suppressed_total{{{MAILER}}}[{RATE}]))", "suppressed")
    )


def pods_ready() -> stat.Panel:
    """Count mailer pods that say they can work; fewer than running is MailerNotReady."""
    return count_up_panel(
        "Mailer pods ready",
        "Pods whose last readiness verdict was ready (joined their group, not shutting "
        "down, the relay accepts their credentials). A relay outage does not make a "
        "pod unready: see the connection failures beside.",
        f"mailer_ready{{{MAILER}}}",
        ["MailerNotReady", "MailerSmtpCredentialsRejected"],
    )


def relay_failures() -> timeseries.Panel:
    """Plot failed connections to the relay by reason: outages and rejections alike."""
    return (
        timeseries_panel(
            "SMTP connection failures by reason",
            "Connections to the relay that failed, per second, by reason: unreachable, "
            "timeout, tls_failed (an outage; mails wait and are retried), auth_rejected "
            "and greeting_refused (the relay refuses us: the pod turns unready).",
            "ops",
        )
        .span(18)
        .links(runbook_links("MailerSmtpConnectionFailing", "MailerSmtpCredentialsRejected"))
        .with_target(
            query(
                "sum by (reason) "
                f"(rate(mailer_smtp_connection_failures_total{{{MAILER}}}[{RATE}]))",
                "{{reason}}",
            )
        )
    )


def smtp_heatmap() -> heatmap.Panel:
    """Show the whole SMTP send time distribution, not just three quantiles."""
    return heatmap_panel(
        "SMTP send time (heatmap)",
        "SMTP transactions per latency bucket over time: a second band that appears is "
        "a slow relay or a slow path through it. Exemplar dots link to traces.",
        "mailer_smtp_send_duration_seconds_bucket",
        MAILER,
    )


def delivery_heatmap() -> heatmap.Panel:
    """Show how long codes took to arrive, bucket by bucket, against the 30 s SLO."""
    return heatmap_panel(
        "Delivery latency (heatmap)",
        "Codes per bucket of issued-to-accepted time over time; everything above the "
        "30 s band misses the SLO. Exemplar dots link to traces.",
        "mailer_delivery_latency_seconds_bucket",
        MAILER,
    )


def group_members() -> timeseries.Panel:
    """Plot the group's members according to the broker, not the mailer."""
    return (
        timeseries_panel(
            "Consumer-group members (kafka-exporter)",
            "Members of the consumer group as the broker reports them. Zero while lag > 0 "
            "is MailerConsumerGroupEmpty. Not filtered by namespace: the exporter may run "
            "elsewhere.",
            "short",
        )
        .links(runbook_links("MailerConsumerGroupEmpty"))
        .with_target(
            query(
                f"sum by (consumergroup) (kafka_consumergroup_members{{{EXPORTER}}})",
                "{{consumergroup}}",
            )
        )
    )


def group_lag() -> timeseries.Panel:
    """Plot lag from committed offsets, which survives a dead mailer, unlike its own gauge."""
    return timeseries_panel(
        "Consumer-group lag per partition (kafka-exporter)",
        "Lag computed by kafka-exporter from the group's committed offsets; keeps "
        "working when the mailer is down and exports nothing.",
        "short",
    ).with_target(
        query(
            f'sum by (topic, partition) (kafka_consumergroup_lag{{{EXPORTER}, topic=~"$topic"}})',
            "{{topic}}/{{partition}}",
        )
    )


def _alert_input(
    title: str, description: str, alert: str, expr: str, legend: str
) -> timeseries.Panel:
    """Plot one alert's input per second, full width, linked to the alert's runbook."""
    return (
        timeseries_panel(title, description, "ops")
        .span(24)
        .links(runbook_links(alert))
        .with_target(query(expr, legend))
    )


def keda_errors() -> timeseries.Panel:
    """Plot KEDA's failures to read the lag: it then scales on its fallback, not on work."""
    by_namespace = " or ".join(
        f'rate(keda_scaled_object_errors_total{{{label}=~"$namespace"}}[{RATE}])'
        for label in KEDA_NAMESPACE_LABELS
    )
    return _alert_input(
        "KEDA scaler errors",
        "Errors per second KEDA met reading the mailer's consumer lag, by ScaledObject. "
        "After fallback.failureThreshold in a row KEDA holds fallback.replicas and no "
        "longer follows the backlog. Empty without KEDA (mailer.keda.enabled).",
        "MailerKedaScalerFailing",
        f"sum by (scaledObject) ({by_namespace})",
        "{{scaledObject}}",
    )


def topic_writes() -> timeseries.Panel:
    """Plot codes reaching the topic, as the broker counts them: OtpTopicNoMessageForTooLong."""
    offsets = 'kafka_topic_partition_current_offset{job=~"$exporter_job", topic=~"$topic"}'
    return _alert_input(
        "Records written to the topic (kafka-exporter)",
        "Records appended to the codes topic per second, from its partitions' offsets: "
        "what movies publishes, whoever consumes it. Flat at zero for "
        "noMessageProducedMinutes is OtpTopicNoMessageForTooLong.",
        "OtpTopicNoMessageForTooLong",
        f"sum by (topic) (rate({offsets}[{RATE}]))",
        "{{topic}}",
    )


def _variables() -> list[variables.VariableBuilder]:
    """Offer the mailer job and topic, plus the exporter's job and the consumer group."""
    return [
        variables.datasource_variable(),
        variables.namespace_variable(),
        variables.label_variable(
            "job", "job", 'mailer_inflight_messages{namespace=~"$namespace"}', MAILER_JOB
        ),
        variables.label_variable(
            "topic",
            "topic",
            'mailer_consumer_lag_messages{namespace=~"$namespace", job=~"$job"}',
            TOPIC_SETTING,
        ),
        variables.label_variable(
            "exporter_job", "job", "kafka_consumergroup_members", "kafka-exporter"
        ),
        variables.label_variable(
            "consumergroup",
            "consumergroup",
            'kafka_consumergroup_members{job=~"$exporter_job"}',
            CONSUMER_GROUP,
        ),
    ]


def mailer_dashboard() -> dashboard.Dashboard:
    """Build the mailer dashboard, panels in the order an on-call reads them."""
    board = new_dashboard(
        UID,
        "reelmail / Mailer: consumer lag & send rate",
        "Is the mail consumer keeping up with one-time codes, and are they being sent?",
        service="mailer",
    ).variables(_variables())
    sections: list[Section] = [
        ("Consumer lag", [lag_per_partition(), total_lag(), lag_seconds()]),
        (
            "Sending",
            [
                send_rate(),
                failure_ratio(),
                dead_letter_rate(),
                received_rate(),
                duplicates_suppressed(),
            ],
        ),
        ("Readiness and the relay", [pods_ready(), relay_failures()]),
        ("Autoscaling (KEDA)", [keda_errors()]),
        ("Latency and concurrency", [smtp_latency(), delivery_latency(), inflight(), targets_up()]),
        ("Latency distribution", [smtp_heatmap(), delivery_heatmap()]),
        ("Consumer group (kafka-exporter)", [group_members(), group_lag(), topic_writes()]),
    ]
    return built(with_sections(board, sections))
