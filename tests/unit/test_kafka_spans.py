"""Kafka producer spans: a plain ``server.address``, and no instrumentation with tracing off."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from telemetry.kafka_spans import broker_address, server_address_hook
from telemetry.redaction import REDACTED
from telemetry.span_redaction import redact_span
from telemetry.tracing import build_tracer_provider, start_tracing


@pytest.mark.parametrize(
    ("servers", "expected"),
    [
        ("127.0.0.1:48657", ("127.0.0.1", 48657)),
        ("kafka-0.kafka:9093, kafka-1.kafka:9093", ("kafka-0.kafka", 9093)),
        ("[::1]:9092", ("::1", 9092)),
        ("kafka", ("kafka", None)),
    ],
)
def test_the_broker_address_is_the_first_bootstrap_server(
    servers: str, expected: tuple[str, int | None]
) -> None:
    assert broker_address(servers) == expected


def test_the_produce_hook_replaces_the_json_quoted_address() -> None:
    exporter = InMemorySpanExporter()
    tracer = build_tracer_provider("t", SimpleSpanProcessor(exporter)).get_tracer("t")
    with tracer.start_as_current_span("mail.otp.v1 send") as span:
        # What the instrumentation sets before it calls the hook: json.dumps of the servers.
        span.set_attribute("server.address", '"127.0.0.1:48657"')
        span.set_attribute("messaging.kafka.message.key", "bob@example.com")
        asyncio.run(server_address_hook("127.0.0.1:48657")(span, (), {}))
    [finished] = exporter.get_finished_spans()
    assert finished.attributes is not None
    assert finished.attributes["server.address"] == "127.0.0.1"
    assert finished.attributes["server.port"] == 48657
    assert finished.attributes["messaging.kafka.message.key"] == REDACTED
    assert redact_span(finished) is finished, "nothing left to redact, so no copy"


def test_with_no_endpoint_kafka_is_not_instrumented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert start_tracing("mailer", "127.0.0.1:9092") is None
    assert not AIOKafkaInstrumentor().is_instrumented_by_opentelemetry
