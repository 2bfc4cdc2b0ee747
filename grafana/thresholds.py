"""Alert thresholds: the numbers alerts compare with, and that panels are coloured at.

Each tunable threshold has one default, used by the plain Prometheus rules file, and
one Helm values key under ``alerts.thresholds``, used by the chart's PrometheusRule and
its dashboards; keeping both in one table means no file can disagree about what a key
means. A few numbers are part of an alert's definition rather than a setting (the
burn-rate factors of the SLO alerts, "at least one instance up"): they are thresholds
too, so panels draw them from the same place, but they are never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

# What values a threshold may take: any count or duration (>= 0), a share (0 to 1), an
# objective (strictly between 0 and 1: its error budget divides), whole minutes (>= 1).
Bounds = Literal["non-negative", "ratio", "objective", "minutes"]
_NUMBERS: Final[dict[Bounds, dict[str, object]]] = {
    "non-negative": {"type": "number", "minimum": 0},
    "ratio": {"type": "number", "minimum": 0, "maximum": 1},
    "objective": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    "minutes": {"type": "integer", "minimum": 1},
}
# `helm --set` passes decimals as strings, so each range also takes its decimal spelling.
_SPELLINGS: Final[dict[Bounds, str]] = {
    "non-negative": r"^[0-9]+(\.[0-9]+)?$",
    "ratio": r"^(0(\.[0-9]+)?|1(\.0+)?)$",
    "objective": r"^0\.[0-9]*[1-9][0-9]*$",
    "minutes": r"^[1-9][0-9]*$",
}


@dataclass(frozen=True, slots=True)
class Threshold:
    """One number: its Helm values key (when tunable), its default and what it bounds."""

    key: str
    default: float
    meaning: str
    bounds: Bounds = "non-negative"
    tunable: bool = True

    def schema(self) -> dict[str, object]:
        """Give the JSON schema the chart's values.schema.json holds for this key."""
        spelled = {"type": "string", "pattern": _SPELLINGS[self.bounds]}
        return {"anyOf": [_NUMBERS[self.bounds], spelled], "description": self.meaning}


CONSUMER_LAG_SECONDS_WARNING: Final = Threshold(
    "consumerLagSecondsWarning", 30, "age in seconds of the oldest unprocessed record (warning)"
)
CONSUMER_LAG_SECONDS_CRITICAL: Final = Threshold(
    "consumerLagSecondsCritical", 120, "age in seconds of the oldest unprocessed record (critical)"
)
CONSUMER_LAG_MESSAGES_WARNING: Final = Threshold(
    "consumerLagMessagesWarning", 100, "records waiting across a topic's partitions (warning)"
)
CONSUMER_LAG_MESSAGES_CRITICAL: Final = Threshold(
    "consumerLagMessagesCritical", 1000, "records waiting across a topic's partitions (critical)"
)
CONSUMER_LAG_GROWTH_PER_MINUTE: Final = Threshold(
    "consumerLagGrowthPerMinute", 1, "sustained lag growth, records per minute, over 10 minutes"
)
SEND_FAILURE_RATIO_WARNING: Final = Threshold(
    "sendFailureRatioWarning",
    0.1,
    "share of SMTP attempts that failed over 5 minutes",
    bounds="ratio",
)
DEAD_LETTERS_WARNING: Final = Threshold(
    "deadLettersWarning", 0, "records dead-lettered in 10 minutes above which to warn"
)
PUBLISH_FAILURE_RATIO_WARNING: Final = Threshold(
    "publishFailureRatioWarning",
    0.05,
    "share of movies' Kafka publishes that failed",
    bounds="ratio",
)
OUTBOX_OLDEST_AGE_SECONDS_WARNING: Final = Threshold(
    "outboxOldestAgeSecondsWarning", 60, "age in seconds of the oldest unpublished outbox row"
)
OUTBOX_OLDEST_AGE_SECONDS_CRITICAL: Final = Threshold(
    "outboxOldestAgeSecondsCritical", 300, "age in seconds of the oldest unpublished outbox row"
)
HTTP_ERROR_RATIO_WARNING: Final = Threshold(
    "httpErrorRatioWarning",
    0.05,
    "share of movies API responses that were 5xx (warning)",
    bounds="ratio",
)
HTTP_ERROR_RATIO_CRITICAL: Final = Threshold(
    "httpErrorRatioCritical",
    0.25,
    "share of movies API responses that were 5xx (critical)",
    bounds="ratio",
)
SMTP_CONNECTION_FAILURES_WARNING: Final = Threshold(
    "smtpConnectionFailuresWarning",
    0,
    "failed connections to the relay (unreachable, timeout, TLS) in 5 minutes above which to warn",
)
KEDA_SCALER_ERRORS_WARNING: Final = Threshold(
    "kedaScalerErrorsWarning", 0, "KEDA errors reading the mailer's lag in 5 minutes (warning)"
)
HTTP_LATENCY_P95_SECONDS_WARNING: Final = Threshold(
    "httpLatencyP95SecondsWarning", 1, "95th percentile of movies API request time, seconds"
)
NO_MESSAGE_PRODUCED_MINUTES: Final = Threshold(
    "noMessageProducedMinutes",
    60,
    "minutes without a record written to the codes topic",
    bounds="minutes",
)
OTP_DELIVERY_SLO_OBJECTIVE: Final = Threshold(
    "otpDeliverySloObjective",
    0.99,
    "share of one-time codes to mail within 30 s (30 days)",
    bounds="objective",
)

INSTANCES_UP_MINIMUM: Final = Threshold(
    "instancesUpMinimum", 1, "scrape targets up, below which a service is down", tunable=False
)

ALL_THRESHOLDS: Final = (
    CONSUMER_LAG_SECONDS_WARNING,
    CONSUMER_LAG_SECONDS_CRITICAL,
    CONSUMER_LAG_MESSAGES_WARNING,
    CONSUMER_LAG_MESSAGES_CRITICAL,
    CONSUMER_LAG_GROWTH_PER_MINUTE,
    SEND_FAILURE_RATIO_WARNING,
    DEAD_LETTERS_WARNING,
    SMTP_CONNECTION_FAILURES_WARNING,
    KEDA_SCALER_ERRORS_WARNING,
    PUBLISH_FAILURE_RATIO_WARNING,
    OUTBOX_OLDEST_AGE_SECONDS_WARNING,
    OUTBOX_OLDEST_AGE_SECONDS_CRITICAL,
    HTTP_ERROR_RATIO_WARNING,
    HTTP_ERROR_RATIO_CRITICAL,
    HTTP_LATENCY_P95_SECONDS_WARNING,
    NO_MESSAGE_PRODUCED_MINUTES,
    OTP_DELIVERY_SLO_OBJECTIVE,
)


def format_number(value: float) -> str:
    """Write a default the way PromQL and YAML both read it, without a spurious ``.0``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
