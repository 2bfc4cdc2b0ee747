"""Tracing of the movie service: HTTP server spans named by route template, DB client spans.

Litestar's own OpenTelemetry plugin names spans by the raw path by default
(``GET /movies/42``), which makes one span name per movie; the router has already put
the matched template in the scope, so spans and ``http.route`` use that instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE

if TYPE_CHECKING:
    from litestar.types import Scope
    from sqlalchemy.ext.asyncio import AsyncEngine

# Probes and the scrape: neither traced nor counted as API traffic. Anchored, because
# Litestar searches the path for these patterns.
OPERATIONS_PATHS = ["^/metrics$", "^/healthz$", "^/readyz$"]


def route_span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    """Name the server span ``<METHOD> <route template>`` and set ``http.route`` to the template."""
    template = str(scope.get("path_template") or scope.get("path", ""))
    method = str(scope.get("method", "")).strip()
    name = f"{method} {template}" if method else template
    return name, {HTTP_ROUTE: template}


def opentelemetry_plugin() -> OpenTelemetryPlugin:
    """Server spans for every API route; probes and scrapes are left out of traces."""
    return OpenTelemetryPlugin(
        OpenTelemetryConfig(
            scope_span_details_extractor=route_span_details,
            exclude=OPERATIONS_PATHS,
            exclude_spans=["receive", "send"],
        )
    )


def instrument_engine(engine: AsyncEngine) -> None:
    """Record a CLIENT span per SQL statement; statements carry placeholders, not values.

    The instrumentation declares ``sqlalchemy < 2.1`` and silently does nothing on 2.1,
    though the engine events it hooks are unchanged there; the dependency check is
    skipped on purpose, and tests/integration/observability asserts the DB spans exist.
    SQLite's writer is this engine with other execution options, sharing its events:
    instrumenting it too would end every write statement's span twice.
    """
    SQLAlchemyInstrumentor().instrument(
        engines=[engine.sync_engine], enable_commenter=False, skip_dep_check=True
    )
