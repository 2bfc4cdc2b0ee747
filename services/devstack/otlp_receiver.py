"""An OTLP/HTTP trace receiver for tests and benchmarks: decodes, keeps or just counts spans.

Point a service at it with ``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:<port>``; the
exporter posts protobuf ``ExportTraceServiceRequest`` bodies to ``/v1/traces``.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    """One exported span, flattened for assertions."""

    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_code: str


class OtlpReceiver:
    """A background HTTP server collecting spans; ``keep=False`` only counts them.

    ``keep_bodies`` also keeps every export request exactly as it arrived (decompressed),
    so an audit can search all that was exported, events and status messages included,
    not only the flattened attributes.
    """

    def __init__(self, *, keep: bool = True, keep_bodies: bool = False) -> None:
        """Bind a free loopback port now; :meth:`start` serves it."""
        self.keep = keep
        self.keep_bodies = keep_bodies
        self.spans: list[ReceivedSpan] = []
        self.bodies: list[bytes] = []
        self.count = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The value for ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the port."""
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[ReceivedSpan]:
        """Return the spans received so far."""
        with self._lock:
            return list(self.spans)

    def raw_bodies(self) -> list[bytes]:
        """Return the export requests received so far, as sent (with ``keep_bodies``)."""
        with self._lock:
            return list(self.bodies)

    def ingest(self, body: bytes) -> None:
        """Decode one export request and record its spans."""
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        if not (self.keep or self.keep_bodies):
            # Counting only (the benchmarks): flattening every span would take CPU from
            # the process under test, which shares the machine.
            counted = sum(
                len(scope.spans) for r in request.resource_spans for scope in r.scope_spans
            )
            with self._lock:
                self.count += counted
            return
        flattened = [
            _flatten(span, _service_name(resource.resource.attributes))
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]
        with self._lock:
            self.count += len(flattened)
            if self.keep:
                self.spans.extend(flattened)
            if self.keep_bodies:
                self.bodies.append(body)


def _handler_for(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path == "/v1/traces":
                receiver.ingest(body)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_args: object) -> None:
            return

    return Handler


def _flatten(span: ProtoSpan, service: str) -> ReceivedSpan:
    return ReceivedSpan(
        service=service,
        name=span.name,
        kind=ProtoSpan.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        attributes={item.key: _value(item.value) for item in span.attributes},
        status_code=Status.StatusCode.Name(span.status.code),
    )


def _service_name(attributes: Any) -> str:  # noqa: ANN401 -- a protobuf repeated field
    for item in attributes:
        if isinstance(item, KeyValue) and item.key == "service.name":
            return str(_value(item.value))
    return ""


def _value(value: AnyValue) -> Any:  # noqa: ANN401 -- OTLP attribute values are any scalar
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None
