"""The movie service's own Prometheus metrics; names and labels as in docs/observability.md.

Labels are small closed sets (purpose, result, topic); an address, a code or a token
never becomes a label value.
"""

from __future__ import annotations

from typing import Any, Final

from opentelemetry import trace
from prometheus_client import Counter, Gauge, Histogram

OTP_CODES_ISSUED: Final = Counter(
    "movies_otp_codes_issued_total",
    "One-time codes issued (each one queued for mailing).",
    ["purpose"],
)
OTP_VERIFICATIONS: Final = Counter(
    "movies_otp_verifications_total",
    "Attempts to exchange a code for a session, by outcome.",
    ["result"],
)
KAFKA_PUBLISHES: Final = Counter(
    "movies_kafka_publish_total",
    "Outbox records handed to Kafka, by outcome (ok, error, timeout).",
    ["topic", "result"],
)
KAFKA_PUBLISH_DURATION: Final = Histogram(
    "movies_kafka_publish_duration_seconds",
    "Time from handing a record to the producer until the broker acknowledged it.",
    ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
OUTBOX_PENDING: Final = Gauge(
    "movies_outbox_pending_messages",
    "Outbox rows not yet published; refreshed by the relay on every cycle.",
)
OUTBOX_OLDEST_AGE: Final = Gauge(
    "movies_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row (0 when none); refreshed every relay cycle.",
)
OUTBOX_NOTIFICATIONS: Final = Counter(
    "movies_outbox_notifications_total",
    "Commits of outbox rows (by any replica) that woke this relay through LISTEN/NOTIFY.",
)
OUTBOX_LISTENING: Final = Gauge(
    "movies_outbox_listening",
    "1 while the relay LISTENs for other replicas' commits (PostgreSQL), else 0.",
)
RATE_LIMITED: Final = Counter(
    "movies_rate_limited_total",
    "Sign-in requests refused with 429, by rate-limit bucket.",
    ["bucket"],
)


PUBLISH_RESULTS: Final = ("ok", "error", "timeout")


def prime(
    topic: str, purposes: list[str], verification_results: list[str], rate_limit_buckets: list[str]
) -> None:
    """Create every known series at zero, so rates and alerts work before the first event."""
    for bucket in rate_limit_buckets:
        RATE_LIMITED.labels(bucket)
    for purpose in purposes:
        OTP_CODES_ISSUED.labels(purpose)
    for result in verification_results:
        OTP_VERIFICATIONS.labels(result)
    for result in PUBLISH_RESULTS:
        KAFKA_PUBLISHES.labels(topic, result)
    KAFKA_PUBLISH_DURATION.labels(topic)


def trace_exemplar(_request: Any = None) -> dict[str, str]:  # noqa: ANN401 -- Litestar passes its Request
    """``{"trace_id": …}`` of the active span, so a latency bucket links to a trace; else {}."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {}
    return {"trace_id": format(span_context.trace_id, "032x")}
