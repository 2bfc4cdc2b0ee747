"""The OpenTelemetry tracer provider both services install at start-up.

Configured only through the standard variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns tracing on, ``OTEL_EXPORTER_OTLP_PROTOCOL``
picks ``http/protobuf`` (default) or ``grpc``, ``OTEL_TRACES_SAMPLER``/``_ARG`` choose the
sampler (parent-based always-on by default), and ``OTEL_SERVICE_NAME`` /
``OTEL_RESOURCE_ATTRIBUTES`` (e.g. ``deployment.environment=prod``) feed the resource.
With no endpoint, nothing is exported and spans cost next to nothing.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import (
    SERVICE_NAME,
    SERVICE_VERSION,
    OTELResourceDetector,
    Resource,
)
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from telemetry.kafka_spans import instrument_kafka_producers
from telemetry.span_redaction import RedactingSpanExporter

if TYPE_CHECKING:
    from collections.abc import Mapping

    from opentelemetry.context import Context

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
_SQLALCHEMY_SCOPE = "opentelemetry.instrumentation.sqlalchemy"


def tracing_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether an OTLP endpoint is configured; without one, tracing stays a no-op."""
    env = os.environ if environ is None else environ
    return any(env.get(name, "").strip() for name in _ENDPOINT_VARIABLES)


def configure_tracing(
    service_name: str,
    *,
    processor: SpanProcessor | None = None,
) -> TracerProvider | None:
    """Install the global tracer provider, or return None when tracing is off.

    ``processor`` replaces the OTLP batch exporter; tests pass an in-memory one.
    """
    if processor is None:
        if not tracing_enabled():
            return None
        processor = BatchSpanProcessor(RedactingSpanExporter(otlp_span_exporter()))
    provider = build_tracer_provider(service_name, processor)
    trace.set_tracer_provider(provider)
    return provider


def build_tracer_provider(service_name: str, processor: SpanProcessor) -> TracerProvider:
    """Build (without installing it globally) a provider that ends spans in ``processor``.

    The sampler is the SDK's, from ``OTEL_TRACES_SAMPLER``/``_ARG`` (parent-based
    always-on when unset; the chart sets a parent-based ratio).
    """
    provider = TracerProvider(resource=service_resource(service_name))
    provider.add_span_processor(StatementSpanNames())
    provider.add_span_processor(processor)
    return provider


class StatementSpanNames(SpanProcessor):
    """Name each SQL statement span by its operation alone: ``INSERT``, ``SELECT``.

    The SQLAlchemy instrumentation names them ``<operation> <database>``, and SQLite's
    database is a file path (``INSERT /var/lib/movies/movies.db``): a deployment detail
    in every span name. The span is still open when it starts, so it is renamed there.
    """

    def on_start(
        self,
        span: Span,
        parent_context: Context | None = None,  # noqa: ARG002 -- SpanProcessor's signature
    ) -> None:
        """Drop what follows the operation from a statement span's name."""
        scope = span.instrumentation_scope
        if scope is not None and scope.name == _SQLALCHEMY_SCOPE:
            span.update_name(span.name.partition(" ")[0])


def start_tracing(service_name: str, kafka_bootstrap_servers: str) -> TracerProvider | None:
    """Configure tracing and, only when it is on, instrument the Kafka producers.

    With no endpoint this returns None and installs nothing: no instrumentation wraps a
    send or listens to a statement when no span would be exported.
    """
    provider = configure_tracing(service_name)
    if provider is not None:
        instrument_kafka_producers(kafka_bootstrap_servers, provider)
    return provider


def service_resource(service_name: str) -> Resource:
    """Build the resource: our name and version, overridden by the ``OTEL_*`` variables."""
    defaults = Resource.create({SERVICE_NAME: service_name, SERVICE_VERSION: package_version()})
    return defaults.merge(OTELResourceDetector().detect())


def shutdown_tracing(provider: TracerProvider | None) -> None:
    """Flush spans still queued in the batch processor, then stop exporting."""
    if provider is not None:
        provider.shutdown()


def package_version() -> str:
    """Return the installed version of this distribution, for ``service.version``."""
    try:
        return version("reelmail")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def otlp_span_exporter(environ: Mapping[str, str] | None = None) -> SpanExporter:
    """Return the official OTLP exporter for the configured protocol, gRPC or HTTP.

    Endpoint, headers, TLS, compression, retries and timeouts are the exporter's own
    ``OTEL_EXPORTER_OTLP_*`` settings; only the protocol choice is ours to make.
    """
    env = os.environ if environ is None else environ
    protocol = next((env[name] for name in _PROTOCOL_VARIABLES if env.get(name)), "http/protobuf")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415 -- the gRPC stack loads only when asked for
            OTLPSpanExporter as GrpcSpanExporter,
        )

        return GrpcSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415 -- loaded only when tracing is on
        OTLPSpanExporter as HttpSpanExporter,
    )

    return HttpSpanExporter()
