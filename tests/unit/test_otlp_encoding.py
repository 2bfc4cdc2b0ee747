"""The compact OTLP encoder writes what the official encoder writes, once both are parsed.

Spans come from the real SDK (a TracerProvider with an in-memory exporter); the official
``encode_spans`` is the reference. Parsed messages are compared, not bytes: protobuf
does not fix field order, and both orders are valid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)
from opentelemetry.util.types import AttributeValue

from telemetry.otlp_encoding import encode_export_request
from telemetry.otlp_grpc import CompactGrpcSpanExporter

_REMOTE_PARENT = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "v1"), ("other", "x")]),
)


def _provider(
    resource: Resource, limits: SpanLimits | None = None
) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=resource, span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _assert_same_request(spans: Sequence[ReadableSpan]) -> None:
    ours = ExportTraceServiceRequest.FromString(encode_export_request(spans))
    official = ExportTraceServiceRequest.FromString(encode_spans(spans).SerializeToString())
    assert ours == official


def test_a_mailer_like_trace_encodes_the_same() -> None:
    provider, exporter = _provider(Resource.create({"service.name": "mailer"}))
    tracer = provider.get_tracer("reelmail.mailer", "1.2.3")
    parent = set_span_in_context(NonRecordingSpan(_REMOTE_PARENT))
    with tracer.start_as_current_span(
        "mail.otp.v1 process",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={"messaging.system": "kafka", "messaging.kafka.offset": 12345},
    ) as process:
        with tracer.start_as_current_span("render"):
            pass
        with tracer.start_as_current_span("smtp send", kind=SpanKind.CLIENT) as send:
            send.set_attribute("smtp.reply.code", 250)
        process.set_attribute("reelmail.outcome", "sent")
    spans = exporter.get_finished_spans()
    assert len(spans) == 3
    _assert_same_request(spans)


def test_every_span_field_encodes_the_same() -> None:
    provider, exporter = _provider(
        Resource.create({"service.name": "movies", "replicas": 3}, schema_url="https://s/1"),
        SpanLimits(max_span_attributes=4, max_events=1, max_links=1),
    )
    tracer = provider.get_tracer("scope.a", None, schema_url="https://scope/schema")
    links = [
        Link(_REMOTE_PARENT, {"link.kind": "follows"}),
        Link(SpanContext(1, 2, is_remote=False)),
    ]
    with tracer.start_as_current_span("server", kind=SpanKind.SERVER, links=links) as span:
        span.set_attributes(
            {
                "flag": False,
                "negative": -42,
                "big": 2**63 - 1,
                "ratio": 0.25,
                "names": ("a", "b"),
                "overflow": "dropped by the limit",
            }
        )
        span.add_event("first", {"event.n": 1, "event.empty": ""}, timestamp=1_700_000_000)
        span.add_event("second, dropped by the limit")
        span.set_status(Status(StatusCode.ERROR, "SMTP 451 try later"))
    other = provider.get_tracer("scope.b", "0.1")
    for kind in SpanKind:
        with other.start_as_current_span(f"kind {kind.name}", kind=kind) as span:
            span.set_status(Status(StatusCode.OK))
    second_provider, second_exporter = _provider(Resource.create({"service.name": "other"}))
    with second_provider.get_tracer("scope.c").start_as_current_span("elsewhere"):
        pass
    spans = [*exporter.get_finished_spans(), *second_exporter.get_finished_spans()]
    assert spans[0].dropped_attributes
    assert spans[0].dropped_events
    assert spans[0].dropped_links
    _assert_same_request(spans)


_SCALARS = (
    st.text(max_size=20)
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
)
_VALUES = (
    _SCALARS
    | st.lists(st.text(max_size=5), max_size=4).map(tuple)
    | st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=4).map(tuple)
    | st.lists(st.floats(allow_nan=False), max_size=3).map(tuple)
    | st.lists(st.booleans(), max_size=3).map(tuple)
)


@settings(max_examples=300, deadline=None)
@given(attributes=st.dictionaries(st.text(min_size=1, max_size=15), _VALUES, max_size=8))
def test_any_attribute_values_encode_the_same(attributes: Mapping[str, AttributeValue]) -> None:
    provider, exporter = _provider(Resource.create({"service.name": "property"}))
    with provider.get_tracer("property").start_as_current_span("span", attributes=attributes):
        pass
    _assert_same_request(exporter.get_finished_spans())


def test_an_empty_batch_is_an_empty_request() -> None:
    assert encode_export_request([]) == b""
    _assert_same_request([])


def test_the_grpc_exporter_sends_the_same_request() -> None:
    provider, exporter = _provider(Resource.create({"service.name": "grpc"}))
    with provider.get_tracer("grpc").start_as_current_span("span", attributes={"n": 1}):
        pass
    spans = exporter.get_finished_spans()
    grpc = CompactGrpcSpanExporter(endpoint="127.0.0.1:4317", insecure=True)
    assert grpc._translate_data(spans) == encode_spans(spans)  # noqa: SLF001 -- the one override
