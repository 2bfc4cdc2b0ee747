"""The mailer's share of issue 5: its spans continue the producer's trace; metrics; logs."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import TYPE_CHECKING

import pytest
from mailer_harness import (
    KEYRING,
    MailerUnderTest,
    otp_mails,
    publish,
    wait_for,
    wait_until_all_received,
)

from devstack.otlp_receiver import OtlpReceiver, ReceivedSpan
from mailcontract import encode_otp_mail

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    running = OtlpReceiver()
    running.start()
    yield running
    running.stop()


def _traced_mailer(mailer: MailerUnderTest, receiver: OtlpReceiver) -> None:
    mailer.overrides.update(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
        }
    )


def _one(spans: list[ReceivedSpan], name: str, trace_id: str) -> ReceivedSpan:
    found = [span for span in spans if span.name == name and span.trace_id == trace_id]
    assert len(found) == 1, f"expected one {name!r} span in trace {trace_id}, got {len(found)}"
    return found[0]


def test_process_span_continues_the_producers_trace(
    mailer: MailerUnderTest, receiver: OtlpReceiver
) -> None:
    _traced_mailer(mailer, receiver)
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    [mail] = otp_mails("traced", 1)
    headers = [("traceparent", f"00-{trace_id}-{parent_id}-01".encode())]
    publish(
        mailer.kafka, mailer.topic, [(mail.email.encode(), encode_otp_mail(mail, KEYRING))], headers
    )
    mailer.start()
    wait_until_all_received(mailer.sink, {mail.email}, timeout=30)
    wait_for(
        "the process span",
        lambda: any(s.trace_id == trace_id for s in receiver.snapshot()),
        15,
    )

    spans = receiver.snapshot()
    process = _one(spans, f"{mailer.topic} process", trace_id)
    # One span a mail: the SMTP reply is recorded on the process span itself.
    assert [s.name for s in spans if s.trace_id == trace_id] == [process.name]
    assert process.parent_span_id == parent_id
    assert process.kind == "CONSUMER"
    assert process.service == "mailer"
    assert process.attributes["messaging.system"] == "kafka"
    assert process.attributes["messaging.destination.name"] == mailer.topic
    assert process.attributes["messaging.message.id"] == mail.id
    assert process.attributes["smtp.reply.code"] == 250
    assert process.attributes["mail.recipient.domain"] == "example.com"
    everything = json.dumps([span.attributes for span in spans])
    assert mail.email not in everything
    assert mail.code not in everything


def test_failures_mark_spans_as_errors(mailer: MailerUnderTest, receiver: OtlpReceiver) -> None:
    _traced_mailer(mailer, receiver)
    [mail] = otp_mails("refused-traced", 1)
    mailer.sink.policy.permanent_failures.add(mail.email)
    trace_id = secrets.token_hex(16)
    headers = [("traceparent", f"00-{trace_id}-{secrets.token_hex(8)}-01".encode())]
    publish(
        mailer.kafka, mailer.topic, [(mail.email.encode(), encode_otp_mail(mail, KEYRING))], headers
    )
    mailer.start()
    wait_for(
        "the failed process span",
        lambda: any(
            s.trace_id == trace_id and s.attributes.get("smtp.reply.code") == 550
            for s in receiver.snapshot()
        ),
        20,
    )
    process = _one(receiver.snapshot(), f"{mailer.topic} process", trace_id)
    assert process.status_code == "STATUS_CODE_ERROR"
    assert process.attributes["smtp.reply.code"] == 550


def test_an_oversize_dead_letter_is_one_send_span(
    mailer: MailerUnderTest, receiver: OtlpReceiver
) -> None:
    """Too large to publish again whole, it is cut first, not sent once to fail and again."""
    _traced_mailer(mailer, receiver)
    trace_id = secrets.token_hex(16)
    headers = [("traceparent", f"00-{trace_id}-{secrets.token_hex(8)}-01".encode())]
    oversize = b'{"email": "big@example.com", "pad": "' + b"x" * (1024 * 1024 - 64) + b'"}'
    publish(mailer.kafka, mailer.topic, [(b"big", oversize)], headers)
    mailer.start()

    def named(name: str) -> list[ReceivedSpan]:
        return [s for s in receiver.snapshot() if s.trace_id == trace_id and s.name == name]

    send_name, process_name = f"{mailer.dlq} send", f"{mailer.topic} process"
    wait_for("the process and send spans", lambda: bool(named(send_name) and named(process_name)))
    time.sleep(1)  # a second send span, were there one, would have been exported by now
    process = _one(receiver.snapshot(), process_name, trace_id)
    assert process.attributes["reelmail.outcome"] == "invalid"
    [send] = named(send_name)
    assert send.status_code != "STATUS_CODE_ERROR"
    assert send.parent_span_id == process.span_id


def test_metrics_exemplars_and_lag_that_rises_then_drains(
    mailer: MailerUnderTest, receiver: OtlpReceiver
) -> None:
    _traced_mailer(mailer, receiver)
    mailer.overrides["MAILER_MAX_INFLIGHT"] = "4"
    mailer.sink.policy.reply_delay_seconds = 0.5
    mails = otp_mails("lagging", 60)
    mailer.start()
    publish(
        mailer.kafka, mailer.topic, [(m.email.encode(), encode_otp_mail(m, KEYRING)) for m in mails]
    )

    def lag_total() -> float:
        found = re.findall(
            r"^mailer_consumer_lag_messages\{[^}]*\} ([0-9.e+]+)", mailer.metrics(), re.MULTILINE
        )
        return sum(float(value) for value in found)

    wait_for("lag to rise above 20", lambda: lag_total() > 20, 30)
    assert re.search(r"^mailer_consumer_lag_seconds\{[^}]*\} [1-9]", mailer.metrics(), re.MULTILINE)
    mailer.sink.policy.reply_delay_seconds = 0.0
    wait_until_all_received(mailer.sink, {m.email for m in mails}, timeout=60)
    wait_for("lag to return to 0", lambda: lag_total() == 0, 20)

    text = mailer.metrics()
    for name in (
        "mailer_messages_received_total",
        'mailer_emails_total{result="sent"}',
        "mailer_smtp_send_duration_seconds_bucket",
        "mailer_delivery_latency_seconds_bucket",
        "mailer_inflight_messages",
        "process_resident_memory_bytes",
    ):
        assert name in text, name
    assert re.search(
        r'mailer_smtp_send_duration_seconds_bucket\{le="[^"]+"\} [0-9.]+ '
        r'# \{trace_id="[0-9a-f]{32}"\}',
        text,
    )
    assert text.rstrip().endswith("# EOF")


def test_every_log_line_is_json_and_carries_trace_ids_inside_spans(
    mailer: MailerUnderTest, receiver: OtlpReceiver
) -> None:
    _traced_mailer(mailer, receiver)
    mails = otp_mails("logged", 5)
    trace_id = secrets.token_hex(16)
    headers = [("traceparent", f"00-{trace_id}-{secrets.token_hex(8)}-01".encode())]
    publish(
        mailer.kafka,
        mailer.topic,
        [(m.email.encode(), encode_otp_mail(m, KEYRING)) for m in mails],
        headers,
    )
    mailer.start()
    wait_until_all_received(mailer.sink, {m.email for m in mails}, timeout=30)
    time.sleep(0.5)
    lines = [json.loads(line) for line in mailer.logs().splitlines()]
    sent = [line for line in lines if line["event"] == "mail sent"]
    assert len(sent) == 5
    assert {line["trace_id"] for line in sent} == {trace_id}
    assert all(line["email"].count("*") == 3 for line in sent)
    for mail in mails:
        assert mail.code not in mailer.logs()
        assert mail.email not in mailer.logs()
