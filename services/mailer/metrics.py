"""The mailer's Prometheus metrics; names and labels as in docs/observability.md.

Histograms get a ``trace_id`` exemplar when observed inside a sampled span, and
``mailer_delivery_latency_seconds`` has a bucket edge at 30 s, the OTP delivery SLO.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from mailcontract import PoisonReason

SMTP_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DELIVERY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

MESSAGES_RECEIVED = Counter(
    "mailer_messages_received",
    "Records fetched from Kafka, before any processing.",
    ["topic"],
)
EMAILS = Counter(
    "mailer_emails",
    "What happened to each mail: sent, retried (per retry), dead_lettered, expired, invalid.",
    ["result"],
)
DEAD_LETTERS = Counter(
    "mailer_dead_letters",
    "Records published to the dead-letter topic, by reason.",
    ["reason"],
)
CODE_FORMS = Counter(
    "mailer_code_forms",
    "Decoded records by how their code travelled: sealed (v2), or in clear (v1, legacy).",
    ["form"],
)
DUPLICATES_SUPPRESSED = Counter(
    "mailer_duplicates_suppressed",
    "Records not sent because this process already sent their message id (TTL window).",
)
SMTP_SEND_DURATION = Histogram(
    "mailer_smtp_send_duration_seconds",
    "Time for one SMTP transaction (MAIL FROM to the reply to DATA), successful or not.",
    buckets=SMTP_BUCKETS,
)
DELIVERY_LATENCY = Histogram(
    "mailer_delivery_latency_seconds",
    "From the code being issued (or the record's timestamp, for legacy records) to SMTP accept.",
    buckets=DELIVERY_BUCKETS,
)
CONSUMER_LAG_MESSAGES = Gauge(
    "mailer_consumer_lag_messages",
    "High watermark minus committed offset, per assigned partition.",
    ["topic", "partition"],
)
CONSUMER_LAG_SECONDS = Gauge(
    "mailer_consumer_lag_seconds",
    "Age of the oldest unprocessed record, per assigned partition (0 when caught up).",
    ["topic", "partition"],
)
INFLIGHT = Gauge("mailer_inflight_messages", "Records being processed right now.")
SMTP_CONNECTION_FAILURES = Counter(
    "mailer_smtp_connection_failures",
    "Connections to the relay that could not be set up, by reason (every reason of "
    "mailer.relay_health.ConnectionFailure exists from start-up).",
    ["reason"],
)
SMTP_CREDENTIALS_REJECTED = Gauge(
    "mailer_smtp_credentials_rejected",
    "1 while the relay rejects our AUTH (the last connection set-up failed with a 5xx to it).",
)
READY = Gauge(
    "mailer_ready",
    "The last readiness verdict (1 ready, 0 not), refreshed at least every lag interval.",
)
SMTP_CONNECTIONS = Gauge(
    "mailer_smtp_connections",
    "SMTP connections open: as many as sends need, at most SMTP_POOL_SIZE (+1 to probe).",
)

# Every label value of these bounded sets exists from start-up, so a rate() over a reason
# that has not happened yet is 0, not "no data".
for _result in ("sent", "retried", "dead_lettered", "expired", "invalid"):
    EMAILS.labels(result=_result)
for _form in ("sealed", "clear_v1", "clear_legacy"):
    CODE_FORMS.labels(form=_form)
for _reason in (*PoisonReason, "smtp_permanent", "retries_exhausted"):
    DEAD_LETTERS.labels(reason=str(_reason))
