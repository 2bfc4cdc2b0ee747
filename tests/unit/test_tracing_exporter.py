"""The protocol variables pick the official OTLP exporter that ships the spans."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)

from telemetry.tracing import otlp_span_exporter


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, HttpSpanExporter),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, HttpSpanExporter),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, GrpcSpanExporter),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
            },
            GrpcSpanExporter,
        ),
    ],
)
def test_the_protocol_variable_picks_the_exporter(
    environ: dict[str, str], expected: type[object]
) -> None:
    exporter = otlp_span_exporter(environ)
    try:
        assert type(exporter) is expected
    finally:
        exporter.shutdown()
