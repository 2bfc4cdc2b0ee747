"""OTLP trace requests written straight to protobuf bytes, and exporters that send them.

The OTLP exporters build one generated protobuf object per span, attribute and value,
then serialise them: about 50 µs of Python per span, in the exporter thread, holding
the GIL the event loop needs. In the mailer that thread was busy 40% of the time, most
of it encoding (docs/performance.md). This module writes the same
``ExportTraceServiceRequest`` with bytes joins instead; tests/unit/test_otlp_encoding.py
holds it equal, field for field, to the official encoder's output once parsed.

The exporter here is the official OTLP/HTTP one (endpoint, headers, TLS, compression,
retries and timeouts still come from the standard ``OTEL_EXPORTER_OTLP_*`` variables)
with only the encoding replaced; :mod:`telemetry.otlp_grpc` does the same for gRPC.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext

_log = logging.getLogger(__name__)
_UINT64: Final = (1 << 64) - 1
_DOUBLE: Final = struct.Struct("<d")
_FIXED64: Final = struct.Struct("<Q")
_FIXED32: Final = struct.Struct("<I")
_SMALL_VARINTS: Final = [bytes([n]) for n in range(128)]
# Span flags: the parent's remoteness is known (0x100); the parent is remote (0x200).
_FLAGS_LOCAL: Final = _FIXED32.pack(0x100)
_FLAGS_REMOTE: Final = _FIXED32.pack(0x300)


def _tag(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _varint(value: int) -> bytes:
    if value < 0x80:  # noqa: PLR2004 -- one varint byte holds seven bits
        return _SMALL_VARINTS[value]
    out = bytearray()
    while value >= 0x80:  # noqa: PLR2004 -- one varint byte holds seven bits
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_VARINT, _FIXED64_WIRE, _LENGTH, _FIXED32_WIRE = 0, 1, 2, 5
# Tags used per span, event, link and value, computed once.
_SPAN_TRACE_ID: Final = _tag(1, _LENGTH)
_SPAN_SPAN_ID: Final = _tag(2, _LENGTH)
_SPAN_TRACE_STATE: Final = _tag(3, _LENGTH)
_SPAN_PARENT: Final = _tag(4, _LENGTH)
_SPAN_NAME: Final = _tag(5, _LENGTH)
_SPAN_KIND: Final = _tag(6, _VARINT)
_SPAN_START: Final = _tag(7, _FIXED64_WIRE)
_SPAN_END: Final = _tag(8, _FIXED64_WIRE)
_SPAN_ATTRIBUTE: Final = _tag(9, _LENGTH)
_SPAN_DROPPED_ATTRIBUTES: Final = _tag(10, _VARINT)
_SPAN_EVENT: Final = _tag(11, _LENGTH)
_SPAN_DROPPED_EVENTS: Final = _tag(12, _VARINT)
_SPAN_LINK: Final = _tag(13, _LENGTH)
_SPAN_DROPPED_LINKS: Final = _tag(14, _VARINT)
_SPAN_STATUS: Final = _tag(15, _LENGTH)
_SPAN_FLAGS: Final = _tag(16, _FIXED32_WIRE)
_EVENT_TIME: Final = _tag(1, _FIXED64_WIRE)
_EVENT_DROPPED_ATTRIBUTES: Final = _tag(4, _VARINT)
_LINK_ATTRIBUTE: Final = _tag(4, _LENGTH)
_LINK_DROPPED_ATTRIBUTES: Final = _tag(5, _VARINT)
_LINK_FLAGS: Final = _tag(6, _FIXED32_WIRE)
_STATUS_CODE: Final = _tag(3, _VARINT)
_STRING_VALUE: Final = _tag(1, _LENGTH)
_BOOL_VALUE: Final = _tag(2, _VARINT)
_INT_VALUE: Final = _tag(3, _VARINT)
_DOUBLE_VALUE: Final = _tag(4, _FIXED64_WIRE)
_ARRAY_VALUE: Final = _tag(5, _LENGTH)
_KVLIST_VALUE: Final = _tag(6, _LENGTH)
_BYTES_VALUE: Final = _tag(7, _LENGTH)
_FIELD_1: Final = _tag(1, _LENGTH)
_FIELD_2: Final = _tag(2, _LENGTH)
_FIELD_3: Final = _tag(3, _LENGTH)


def _length_delimited(tag: bytes, payload: bytes) -> bytes:
    return tag + _varint(len(payload)) + payload


def _string(tag: bytes, text: str) -> bytes:
    return _length_delimited(tag, text.encode()) if text else b""


def _uint(tag: bytes, value: int) -> bytes:
    return tag + _varint(value) if value else b""


def encode_value(value: object) -> bytes:
    """Return an ``AnyValue`` message's bytes."""
    encoder = _SCALARS.get(type(value))
    if encoder is not None:
        return encoder(value)
    return _encode_other(value)


def _encode_other(value: object) -> bytes:
    """Encode scalar subclasses (bool before int: a bool is an int), then containers."""
    if value is None:
        return b""
    for kind, encoder in _SCALARS.items():
        if isinstance(value, kind):
            return encoder(value)
    if isinstance(value, Sequence):
        items = b"".join(_length_delimited(_FIELD_1, encode_value(item)) for item in value)
        return _length_delimited(_ARRAY_VALUE, items)
    if isinstance(value, Mapping):
        pairs = b"".join(_key_value(str(key), item) for key, item in value.items())
        return _length_delimited(_KVLIST_VALUE, pairs)
    msg = f"cannot encode an attribute value of type {type(value).__name__}"
    raise TypeError(msg)


_SCALARS: Final[dict[type, Callable[[Any], bytes]]] = {
    bool: lambda value: _BOOL_VALUE + (b"\x01" if value else b"\x00"),
    str: lambda value: _length_delimited(_STRING_VALUE, value.encode()),
    int: lambda value: _INT_VALUE + _varint(value & _UINT64),
    float: lambda value: _DOUBLE_VALUE + _DOUBLE.pack(value),
    bytes: lambda value: _length_delimited(_BYTES_VALUE, value),
}


def _key_value(key: str, value: object) -> bytes:
    """Return a ``KeyValue`` framed as field 1 of a ``KeyValueList``."""
    return _length_delimited(_FIELD_1, _key_value_body(key, value))


def _key_value_body(key: str, value: object) -> bytes:
    """Return a ``KeyValue`` message's bytes, unframed."""
    return _encoded_key(key) + _length_delimited(_FIELD_2, encode_value(value))


def _attributes(tag: bytes, attributes: Mapping[str, Any] | None) -> bytes:
    if not attributes:
        return b""
    parts = []
    for key, value in attributes.items():
        try:
            body = _key_value_body(key, value)
        except TypeError:
            _log.exception("span attribute %s not exported", key)
            continue
        parts.append(_length_delimited(tag, body))
    return b"".join(parts)


def _encoded_key(key: str) -> bytes:
    """Return a ``KeyValue.key`` field; attribute names repeat, so most are cached."""
    encoded = _KEYS.get(key)
    if encoded is None:
        encoded = _string(_FIELD_1, key)
        if len(_KEYS) < _MAX_CACHED_KEYS:
            _KEYS[key] = encoded
    return encoded


_KEYS: dict[str, bytes] = {}
_MAX_CACHED_KEYS: Final = 4096


def _event(event: Event) -> bytes:
    body = (
        _EVENT_TIME
        + _FIXED64.pack(event.timestamp)
        + _string(_FIELD_2, event.name)
        + _attributes(_FIELD_3, event.attributes)
        + _uint(_EVENT_DROPPED_ATTRIBUTES, event.dropped_attributes)
    )
    return _length_delimited(_SPAN_EVENT, body)


def _link(link: Link) -> bytes:
    context = link.context
    body = (
        _length_delimited(_FIELD_1, context.trace_id.to_bytes(16, "big"))
        + _length_delimited(_FIELD_2, context.span_id.to_bytes(8, "big"))
        + _attributes(_LINK_ATTRIBUTE, link.attributes)
        + _uint(_LINK_DROPPED_ATTRIBUTES, link.dropped_attributes)
        + _LINK_FLAGS
        + _flags(context)
    )
    return _length_delimited(_SPAN_LINK, body)


def _flags(parent: SpanContext | None) -> bytes:
    return _FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL


def encode_span(span: ReadableSpan) -> bytes:
    """Return one ``Span`` message's bytes."""
    context = span.get_span_context()
    if context is None:
        msg = "a span without a context cannot be exported"
        raise ValueError(msg)
    parts = [
        _SPAN_TRACE_ID,
        b"\x10",
        context.trace_id.to_bytes(16, "big"),
        _SPAN_SPAN_ID,
        b"\x08",
        context.span_id.to_bytes(8, "big"),
    ]
    if context.trace_state:
        state = ",".join(f"{key}={value}" for key, value in context.trace_state.items())
        parts.append(_string(_SPAN_TRACE_STATE, state))
    if span.parent is not None:
        parts += (_SPAN_PARENT, b"\x08", span.parent.span_id.to_bytes(8, "big"))
    parts += (
        _string(_SPAN_NAME, span.name),
        _SPAN_KIND,
        _SMALL_VARINTS[span.kind.value + 1],  # the API's INTERNAL=0 is OTLP's 1, and so on
        _SPAN_START,
        _FIXED64.pack(span.start_time or 0),
        _SPAN_END,
        _FIXED64.pack(span.end_time or 0),
        _attributes(_SPAN_ATTRIBUTE, span.attributes),
        _uint(_SPAN_DROPPED_ATTRIBUTES, span.dropped_attributes),
        *(_event(event) for event in span.events),
        _uint(_SPAN_DROPPED_EVENTS, span.dropped_events),
        *(_link(link) for link in span.links),
        _uint(_SPAN_DROPPED_LINKS, span.dropped_links),
        _status(span),
        _SPAN_FLAGS,
        _flags(span.parent),
    )
    return b"".join(parts)


def _status(span: ReadableSpan) -> bytes:
    status = span.status
    body = _string(_FIELD_2, status.description or "") + _uint(
        _STATUS_CODE, status.status_code.value
    )
    return _length_delimited(_SPAN_STATUS, body)


class _Encoded:
    """Resource and scope messages encoded once per object and reused across batches."""

    def __init__(self) -> None:
        self._resources: dict[int, tuple[Resource, bytes]] = {}
        self._scopes: dict[int, tuple[InstrumentationScope | None, bytes]] = {}

    def resource(self, resource: Resource) -> bytes:
        cached = self._resources.get(id(resource))
        if cached is None or cached[0] is not resource:
            cached = (resource, _attributes(_FIELD_1, resource.attributes))
            self._resources[id(resource)] = cached
        return cached[1]

    def scope(self, scope: InstrumentationScope | None) -> bytes:
        cached = self._scopes.get(id(scope))
        if cached is None or cached[0] is not scope:
            body = b""
            if scope is not None:
                body = (
                    _string(_FIELD_1, scope.name)
                    + _string(_FIELD_2, scope.version or "")
                    + _attributes(_FIELD_3, scope.attributes)
                )
            cached = (scope, body)
            self._scopes[id(scope)] = cached
        return cached[1]


_ENCODED = _Encoded()


def encode_export_request(spans: Sequence[ReadableSpan]) -> bytes:
    """Return an ``ExportTraceServiceRequest``: spans grouped by resource, then by scope."""
    grouped: dict[int, tuple[Resource, dict[int, tuple[InstrumentationScope | None, list[bytes]]]]]
    grouped = {}
    for span in spans:
        resource, scope = span.resource, span.instrumentation_scope
        scopes = grouped.setdefault(id(resource), (resource, {}))[1]
        scopes.setdefault(id(scope), (scope, []))[1].append(encode_span(span))
    request = []
    for resource, scopes in grouped.values():
        scope_spans = b"".join(
            _length_delimited(_FIELD_2, _scope_spans(scope, encoded))
            for scope, encoded in scopes.values()
        )
        body = (
            _length_delimited(_FIELD_1, _ENCODED.resource(resource))
            + scope_spans
            + _string(_FIELD_3, resource.schema_url)
        )
        request.append(_length_delimited(_FIELD_1, body))
    return b"".join(request)


def _scope_spans(scope: InstrumentationScope | None, encoded: list[bytes]) -> bytes:
    spans = b"".join(_length_delimited(_FIELD_2, span) for span in encoded)
    schema_url = scope.schema_url if scope is not None else ""
    return (
        _length_delimited(_FIELD_1, _ENCODED.scope(scope))
        + spans
        + _string(_FIELD_3, schema_url or "")
    )


class CompactHttpSpanExporter(HttpSpanExporter):
    """The OTLP/HTTP exporter with :func:`encode_export_request` as its encoder."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Encode and post one batch; the official client sends, retries and times out."""
        if self._shutdown:
            _log.warning("span exporter already shut down; batch dropped")
            return SpanExportResult.FAILURE
        try:
            payload = encode_export_request(spans)
        except (TypeError, ValueError, OverflowError):
            _log.exception("span batch could not be encoded; dropped")
            return SpanExportResult.FAILURE
        if len(payload) > self._max_request_size:
            _log.warning("span batch of %d bytes is over the request limit; dropped", len(payload))
            return SpanExportResult.FAILURE
        result = self._client.export(payload)
        return SpanExportResult.SUCCESS if result.success else SpanExportResult.FAILURE
