"""Issue 17's span budget on the production path: a code request on PostgreSQL is one
SERVER span, one span for its one database round trip, and the relay's send span."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import pytest
from litestar.testing import TestClient
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from devstack.seal_keys import seal_settings
from movies.app import create_app
from movies.platform.settings import MoviesSettings
from telemetry.kafka_spans import instrument_kafka_producers
from telemetry.tracing import build_tracer_provider

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from devstack import KafkaBroker
    from devstack.postgres import PostgresServer

pytestmark = pytest.mark.integration


def _trace_of_request(exporter: InMemorySpanExporter, timeout: float = 20) -> list[ReadableSpan]:
    """The request's trace once the relay's send span has joined it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spans = exporter.get_finished_spans()
        servers = {s.context.trace_id for s in spans if s.kind is SpanKind.SERVER}
        trace = [s for s in spans if s.context.trace_id in servers]
        if any(s.kind is SpanKind.PRODUCER for s in trace):
            return trace
        time.sleep(0.1)
    msg = "the relay's send span never joined the request's trace"
    raise AssertionError(msg)


def test_a_code_request_on_postgresql_is_three_spans(
    postgres: PostgresServer, kafka: KafkaBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = f"mail.otp.spans-{uuid.uuid4().hex[:8]}"
    kafka.create_topics({topic: 1})
    monkeypatch.setenv("DATABASE_URL", postgres.create_database(f"spans_{uuid.uuid4().hex[:8]}"))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap_servers)
    monkeypatch.setenv("MAIL_TOPIC", topic)
    monkeypatch.setenv("OTP_HMAC_SECRET", "h" * 32)
    monkeypatch.setenv("JWT_SECRET", "j" * 32)
    for name, value in seal_settings().items():
        monkeypatch.setenv(name, value)
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider("movies", SimpleSpanProcessor(exporter))
    instrument_kafka_producers(kafka.bootstrap_servers, provider)
    app = create_app(MoviesSettings.from_env(), tracer_provider=provider)
    try:
        with TestClient(app) as client:
            exporter.clear()
            reply = client.post("/auth/codes", json={"email": "spans@example.com"})
            assert reply.status_code == 202
            trace = _trace_of_request(exporter)
    finally:
        AIOKafkaInstrumentor().uninstrument()
    by_kind = sorted((span.kind.name, span.name) for span in trace)
    assert by_kind == [
        ("CLIENT", "SELECT"),
        ("PRODUCER", f"{topic} send"),
        ("SERVER", "POST /auth/codes"),
    ]
    [statement] = [s for s in trace if s.kind is SpanKind.CLIENT]
    assert "issue_code" in str((statement.attributes or {}).get("db.statement"))
    [send] = [s for s in trace if s.kind is SpanKind.PRODUCER]
    assert (send.attributes or {}).get("server.address") == "127.0.0.1"
