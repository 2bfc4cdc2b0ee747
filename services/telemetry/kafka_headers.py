"""W3C trace context carried in Kafka record headers (a sequence of ``(str, bytes)``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from opentelemetry import propagate
from opentelemetry.propagators.textmap import Getter

if TYPE_CHECKING:
    from opentelemetry.context import Context

KafkaHeaders = Sequence[tuple[str, bytes | None]]


class _HeadersGetter(Getter[KafkaHeaders]):
    """Reads the first value of a header; the producer's own ``traceparent`` comes first."""

    def get(self, carrier: KafkaHeaders, key: str) -> list[str] | None:
        for name, value in carrier:
            if name == key and value is not None:
                return [value.decode("latin-1")]
        return None

    def keys(self, carrier: KafkaHeaders) -> list[str]:
        return [name for name, _ in carrier]


HEADERS_GETTER = _HeadersGetter()


def context_from_headers(headers: KafkaHeaders) -> Context:
    """Extract the trace context the producer injected, to parent the process span."""
    return propagate.extract(headers, getter=HEADERS_GETTER)
