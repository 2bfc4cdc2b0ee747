"""Issue 5's acceptance: one trace from the HTTP request through Kafka to the SMTP reply."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest
from received_mail import code_in, wait_for_mails
from running_stack import unique_address

if TYPE_CHECKING:
    from observed_stack import ObservedStack

    from devstack.otlp_receiver import ReceivedSpan
    from devstack.smtp_sink import MailSink

pytestmark = pytest.mark.integration
MESSAGE_ID = re.compile(r"<([0-9a-f-]{36})@")
DESIGN_METRICS = {
    "movies": (
        'movies_otp_codes_issued_total{purpose="login"}',
        "movies_otp_verifications_total{result=",
        "movies_kafka_publish_total{",
        "movies_kafka_publish_duration_seconds_bucket{",
        "litestar_requests_total{",
        "litestar_request_duration_seconds_bucket{",
    ),
    "mailer": (
        "mailer_messages_received_total{topic=",
        'mailer_emails_total{result="sent"}',
        "mailer_smtp_send_duration_seconds_bucket{",
        "mailer_delivery_latency_seconds_bucket{",
        "mailer_consumer_lag_messages{partition=",
        "mailer_consumer_lag_seconds{partition=",
        "mailer_inflight_messages ",
        "mailer_dead_letters_total",
        "process_cpu_seconds_total",
    ),
}


def _mail_id(mail: object) -> str:
    match = MESSAGE_ID.search(str(mail["Message-ID"]))  # type: ignore[index]
    assert match is not None
    return match.group(1)


def _process_span(spans: list[ReceivedSpan], mail_id: str) -> ReceivedSpan | None:
    for span in spans:
        if span.kind == "CONSUMER" and span.attributes.get("messaging.message.id") == mail_id:
            return span
    return None


def _ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    chain = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


def _wait_for_process_spans(stack: ObservedStack, mail_ids: set[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spans = stack.receiver.snapshot()
        found = {s.attributes.get("messaging.message.id") for s in spans if s.kind == "CONSUMER"}
        if mail_ids <= found:
            time.sleep(1.0)  # the movies side's batch may still be in flight
            return
        time.sleep(0.2)


def test_one_sign_in_is_one_connected_trace(observed: ObservedStack, smtp_sink: MailSink) -> None:
    address = unique_address("traced")
    reply = httpx.post(f"{observed.api}/auth/codes", json={"email": address}, timeout=10)
    assert reply.status_code == 202
    [mail] = wait_for_mails(smtp_sink, address)
    mail_id = _mail_id(mail)
    _wait_for_process_spans(observed, {mail_id})

    spans = observed.receiver.snapshot()
    process = _process_span(spans, mail_id)
    assert process is not None, "no process span for the mail"
    trace = [span for span in spans if span.trace_id == process.trace_id]
    by_id = {span.span_id: span for span in trace}
    server = [s for s in trace if s.kind == "SERVER" and s.service == "movies"]
    assert [s.name for s in server] == ["POST /auth/codes"]
    assert server[0].attributes.get("http.route") == "/auth/codes"
    db = [s for s in trace if s.kind == "CLIENT" and s.service == "movies"]
    assert db, "no database spans in the trace"
    assert all(server[0] in _ancestors(span, by_id) for span in db)
    # Named by the operation alone: no database file, no pool checkout of its own.
    assert all(" " not in span.name and span.name != "connect" for span in db)
    [send] = [s for s in trace if s.kind == "PRODUCER" and s.name == f"{observed.topic} send"]
    assert send.service == "movies"
    assert server[0] in _ancestors(send, by_id)
    assert send.attributes["server.address"] == "127.0.0.1", "not the JSON-quoted servers"
    assert isinstance(send.attributes["server.port"], int)
    assert process.parent_span_id == send.span_id
    assert process.name == f"{observed.topic} process"
    assert process.service == "mailer"
    # One span a mail: the SMTP reply is an attribute of the process span.
    assert [s.name for s in trace if s.service == "mailer"] == [process.name]
    assert process.attributes["smtp.reply.code"] == 250
    for span in (send, process):
        assert span.attributes["messaging.system"] == "kafka"
        assert span.attributes["messaging.destination.name"] == observed.topic
    exported = json.dumps([s.attributes for s in spans])
    assert code_in(mail) not in exported
    assert address not in exported
    _assert_request_logs_carry_the_trace(observed, process.trace_id)


def _assert_request_logs_carry_the_trace(stack: ObservedStack, trace_id: str) -> None:
    movies_lines = [json.loads(line) for line in stack.movies.log_text().splitlines()]
    mailer_lines = [json.loads(line) for line in stack.mailer.log_text().splitlines()]
    assert any(line.get("trace_id") == trace_id for line in movies_lines)
    sent = [line for line in mailer_lines if line.get("trace_id") == trace_id]
    assert [line["event"] for line in sent if line["event"] == "mail sent"] == ["mail sent"]
    assert all("span_id" in line for line in sent)


def test_two_hundred_concurrent_sign_ins_are_all_connected(
    observed: ObservedStack, smtp_sink: MailSink
) -> None:
    addresses = [f"burst-{i}-{uuid.uuid4().hex[:8]}@example.com" for i in range(200)]

    async def request_all() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:
            replies = await asyncio.gather(
                *(client.post(f"{observed.api}/auth/codes", json={"email": a}) for a in addresses)
            )
        return [reply.status_code for reply in replies]

    assert set(asyncio.run(request_all())) == {202}
    mails = [wait_for_mails(smtp_sink, address, timeout=90)[0] for address in addresses]
    mail_ids = {_mail_id(mail) for mail in mails}
    _wait_for_process_spans(observed, mail_ids, timeout=60)
    spans = observed.receiver.snapshot()
    by_id = {span.span_id: span for span in spans}
    connected = 0
    for mail_id in mail_ids:
        process = _process_span(spans, mail_id)
        chain = _ancestors(process, by_id) if process else []
        connected += any(s.kind == "SERVER" and s.service == "movies" for s in chain)
    print(f"connected traces: {connected} of {len(mail_ids)} mails")
    assert connected == len(mail_ids) == 200


def test_every_design_metric_is_exported_with_exemplars(observed: ObservedStack) -> None:
    address = unique_address("metrics")
    httpx.post(f"{observed.api}/auth/codes", json={"email": address}, timeout=10)
    httpx.post(
        f"{observed.api}/auth/sessions", json={"email": address, "code": "000000"}, timeout=10
    )
    time.sleep(2.5)
    for service, names in DESIGN_METRICS.items():
        text = observed.metrics(service)
        missing = [name for name in names if name not in text]
        assert not missing, f"{service} lacks {missing}"
        assert re.search(r'_bucket\{[^}]*\} [0-9.e+]+ # \{trace_id="[0-9a-f]{32}"\}', text), (
            f"{service} exports no exemplar"
        )


def test_every_log_line_is_json_and_no_code_leaks(
    observed: ObservedStack, smtp_sink: MailSink
) -> None:
    address = unique_address("logs")
    httpx.post(f"{observed.api}/auth/codes", json={"email": address}, timeout=10)
    [mail] = wait_for_mails(smtp_sink, address)
    code = code_in(mail)
    time.sleep(1.0)
    logs = observed.logs()
    for line in logs.splitlines():
        json.loads(line)
    assert not re.search(rf"(?<!\d){code}(?!\d)", logs)
    assert address not in logs
    metrics = observed.metrics("movies") + observed.metrics("mailer")
    assert address not in metrics
    assert not re.search(rf'"{code}"', metrics)
