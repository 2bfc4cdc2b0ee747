"""Tracing of the movie service: one SERVER span per request, named by its route template.

Installed only when tracing is on (``create_app`` is given a tracer provider): with no
endpoint, neither the ASGI middleware nor the SQLAlchemy event listeners run at all.

Litestar's OpenTelemetry plugin opens the server span before the router has matched the
request, so it cannot know the route yet; by default it names the span after the raw
path (``GET /movies/42``), one span name per movie. Here the span starts named by its
method alone (what the semantic conventions ask when the route is unknown, as for a
path no route matches), and :func:`name_span_by_route`, a middleware that runs after
routing, renames it ``GET /movies/{movie_id}`` and sets ``http.route``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send
    from opentelemetry.trace import TracerProvider
    from sqlalchemy.ext.asyncio import AsyncEngine

# Probes and the scrape: neither traced nor counted as API traffic. Anchored, because
# Litestar searches the path for these patterns.
OPERATIONS_PATHS = ["^/metrics$", "^/healthz$", "^/readyz$"]


def method_span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    """Name the server span by the method alone until the route is known: never the path."""
    return str(scope.get("method", "")).strip() or "HTTP", {}


def name_span_by_route(app: ASGIApp) -> ASGIApp:
    """Middleware: rename the current server span ``<METHOD> <route template>``."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        template = scope.get("path_template")
        if template and span.is_recording():
            method = str(scope.get("method", "")).strip()
            span.update_name(f"{method} {template}" if method else template)
            span.set_attribute(HTTP_ROUTE, template)
        await app(scope, receive, send)

    return middleware


def opentelemetry_plugin(provider: TracerProvider) -> OpenTelemetryPlugin:
    """One server span per API request, and no ASGI ``send``/``receive`` spans inside it."""
    return OpenTelemetryPlugin(
        OpenTelemetryConfig(
            tracer_provider=provider,
            scope_span_details_extractor=method_span_details,
            exclude=OPERATIONS_PATHS,
            exclude_spans=["receive", "send"],
        )
    )


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """Record a CLIENT span per SQL statement; statements carry placeholders, not values.

    The instrumentation also wraps ``Engine.connect`` in a ``connect`` span: every
    checkout from the pool, once per request, not a round trip of its own. Unwrapped
    (the instrumentation's own public helper), a request's database work is its
    statements' spans alone.

    The instrumentation declares ``sqlalchemy < 2.1`` and silently does nothing on 2.1,
    though the engine events it hooks are unchanged there; the dependency check is
    skipped on purpose, and tests/integration/observability asserts the DB spans exist.
    SQLite's writer is this engine with other execution options, sharing its events:
    instrumenting it too would end every write statement's span twice.
    """
    SQLAlchemyInstrumentor().instrument(
        engines=[engine.sync_engine],
        tracer_provider=provider,
        enable_commenter=False,
        skip_dep_check=True,
    )
    unwrap(Engine, "connect")


def uninstrument_engines() -> None:
    """Remove the statement listeners again, when the app that installed them stops."""
    SQLAlchemyInstrumentor().uninstrument()
