"""The aiokafka instrumentation as both services install it: producer sends only.

Installed only when tracing is on. The instrumentation's per-record consumer span ends
before the record is processed (see docs/architecture.md), so the mailer opens its own
``<topic> process`` span from the record's headers instead; the consumer's fetch
wrappers are removed again (the instrumentation's own public ``unwrap``). Left in, those
spans were a third of everything the mailer exported and cost 0.3 ms of CPU per mail at
100% sampling, for no information the process span lacks.

The instrumentation sets ``server.address`` to the JSON encoding of the client's
bootstrap servers: a quoted string (``'"127.0.0.1:9092"'``), or a list. Its produce
hook, run after it set that, replaces it with the first configured bootstrap server's
host and port, as the semantic conventions define both, and replaces the message key
(the recipient's address, by the contract) with ``[redacted]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.semconv._incubating.attributes.messaging_attributes import (
    MESSAGING_KAFKA_MESSAGE_KEY,
)
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT

from telemetry.redaction import REDACTED

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from opentelemetry.trace import Span, TracerProvider


def broker_address(bootstrap_servers: str) -> tuple[str, int | None]:
    """Host and port of the first of ``host:port[,host:port...]`` (IPv6 in brackets)."""
    first = bootstrap_servers.split(",", maxsplit=1)[0].strip()
    host, colon, port = first.rpartition(":")
    if not colon or not port.isdigit():
        return first.strip("[]"), None
    return host.strip("[]"), int(port)


def server_address_hook(
    bootstrap_servers: str,
) -> Callable[[Span, tuple[Any, ...], dict[str, Any]], Awaitable[None]]:
    """Build a produce hook: ``server.address``/``server.port`` from our settings, no key."""
    host, port = broker_address(bootstrap_servers)

    async def set_server_address(
        span: Span, _args: tuple[Any, ...], _kwargs: dict[str, Any]
    ) -> None:
        # The contract keys records by address: replaced here, the span never holds it,
        # and the redacting exporter need not copy every send span to drop it.
        span.set_attribute(MESSAGING_KAFKA_MESSAGE_KEY, REDACTED)
        span.set_attribute(SERVER_ADDRESS, host)
        if port is not None:
            span.set_attribute(SERVER_PORT, port)

    return set_server_address


def instrument_kafka_producers(bootstrap_servers: str, provider: TracerProvider) -> None:
    """Trace every producer's sends with a plain ``server.address``; never the fetches."""
    AIOKafkaInstrumentor().instrument(
        tracer_provider=provider, async_produce_hook=server_address_hook(bootstrap_servers)
    )
    unwrap(AIOKafkaConsumer, "getone")
    unwrap(AIOKafkaConsumer, "getmany")
