"""A span exporter wrapper that keeps addresses and secrets out of exported spans.

Our own spans only ever carry a recipient's domain, but instrumentations we do not
control record more: the aiokafka one puts the message key, which the contract makes
the recipient's address, in ``messaging.kafka.message.key``. Every span passes through
here before it leaves the process, so no instrumentation can ship an address, a code
or a token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.semconv._incubating.attributes.messaging_attributes import (
    MESSAGING_KAFKA_MESSAGE_KEY,
)
from opentelemetry.trace import Status

from telemetry.redaction import REDACTED, SECRET_KEYS, mask_embedded_addresses

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# The second key is the one older aiokafka instrumentations set.
_DROPPED_KEYS = frozenset({MESSAGING_KAFKA_MESSAGE_KEY, "messaging.kafka.key"})
# Attribute names end in "code" for protocol status codes (smtp.reply.code), never for an
# OTP; the one-time code itself is never set as an attribute by our code.
_SECRET_SUFFIXES = SECRET_KEYS - {"code"}
# A Message-ID is <uuid@sender-domain>: shaped like an address, but it names no person.
_VERBATIM_KEYS = frozenset({"mail.message_id"})


class RedactingSpanExporter(SpanExporter):
    """Masks addresses in every string attribute and drops secret-named ones, then exports."""

    def __init__(self, inner: SpanExporter) -> None:
        """Wrap the exporter that actually ships spans."""
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export redacted copies of ``spans``."""
        return self._inner.export([redact_span(span) for span in spans])

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the wrapped exporter."""
        return self._inner.force_flush(timeout_millis)


def redact_span(span: ReadableSpan) -> ReadableSpan:
    """Return ``span`` with no address or secret in its attributes, events and status.

    Most spans have nothing to redact (ours carry only domains), and copying each one
    cost as much as creating it, so those are passed on as they are; the rest are copied.
    """
    if _is_clean(span):
        return span
    status = span.status
    if status.description:
        status = Status(status.status_code, mask_embedded_addresses(status.description))
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=redact_attributes(span.attributes or {}),
        events=[_redact_event(event) for event in span.events],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _is_clean(span: ReadableSpan) -> bool:
    """Tell whether :func:`redact_span` would change nothing (masking needs an ``@``)."""
    if span.events or "@" in (span.status.description or ""):
        return False
    return not any(_needs_redaction(key, value) for key, value in (span.attributes or {}).items())


def _needs_redaction(key: str, value: object) -> bool:
    if key in _DROPPED_KEYS or key.rpartition(".")[2] in _SECRET_SUFFIXES:
        return value != REDACTED  # the Kafka produce hook already replaced the key
    return isinstance(value, str) and "@" in value and key not in _VERBATIM_KEYS


def redact_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Drop keys that hold a message key or a secret; mask addresses in the other strings."""
    cleaned: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in _DROPPED_KEYS or key.rpartition(".")[2] in _SECRET_SUFFIXES:
            cleaned[key] = REDACTED
        elif isinstance(value, str) and key not in _VERBATIM_KEYS:
            cleaned[key] = mask_embedded_addresses(value)
        else:
            cleaned[key] = value
    return cleaned


def _redact_event(event: Event) -> Event:
    return Event(event.name, redact_attributes(event.attributes or {}), event.timestamp)
