"""Carrying a request's W3C trace context through the outbox to the Kafka publish.

The request only writes a row; the relay publishes it later, in another task. Storing
the propagator's headers with the row and re-attaching them around the send is what
lets the producer span (and the mailer's consumer span after it) join the request's trace.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import context, propagate
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor

if TYPE_CHECKING:
    from collections.abc import Iterator


def capture() -> dict[str, str]:
    """Serialise the current context as propagator headers (``traceparent``…), or {}."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def attached(carrier: dict[str, str]) -> Iterator[None]:
    """Run the block inside the context a stored carrier describes."""
    token = context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        context.detach(token)


def record_headers(carrier: dict[str, str]) -> list[tuple[str, bytes]]:
    """Trace headers the relay adds to a record itself.

    When the aiokafka instrumentation is active it injects the producer span's context
    (the right parent for the consumer), and a second ``traceparent`` would shadow it;
    without it, the stored context is forwarded so the trace still crosses the hop.
    """
    if AIOKafkaInstrumentor().is_instrumented_by_opentelemetry:
        return []
    return [(name, value.encode()) for name, value in sorted(carrier.items())]
