import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from movies.outbox import trace_context
from movies.platform import metrics

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7


def _span() -> NonRecordingSpan:
    return NonRecordingSpan(
        SpanContext(TRACE_ID, SPAN_ID, is_remote=False, trace_flags=TraceFlags(1))
    )


def test_nothing_is_captured_outside_a_trace() -> None:
    assert trace_context.capture() == {}
    assert metrics.trace_exemplar() == {}


def test_the_request_context_survives_the_trip_through_the_outbox() -> None:
    with trace.use_span(_span()):
        carrier = trace_context.capture()
    assert carrier["traceparent"] == f"00-{TRACE_ID:032x}-{SPAN_ID:016x}-01"

    assert not trace.get_current_span().get_span_context().is_valid
    with trace_context.attached(carrier):
        restored = trace.get_current_span().get_span_context()
        assert restored.trace_id == TRACE_ID
        assert restored.span_id == SPAN_ID
        assert metrics.trace_exemplar() == {"trace_id": f"{TRACE_ID:032x}"}
    assert not trace.get_current_span().get_span_context().is_valid


def test_the_relay_forwards_the_context_itself_only_without_kafka_instrumentation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carrier = {"traceparent": "00-abc-def-01"}
    instrumentor = AIOKafkaInstrumentor()
    monkeypatch.setattr(instrumentor, "_is_instrumented_by_opentelemetry", False)
    assert trace_context.record_headers(carrier) == [("traceparent", b"00-abc-def-01")]
    monkeypatch.setattr(instrumentor, "_is_instrumented_by_opentelemetry", True)
    assert trace_context.record_headers(carrier) == []
