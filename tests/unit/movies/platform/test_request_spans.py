"""The span budget of a movies request (issue 17): one SERVER span named by the route
template, statement spans named without the database file, nothing when tracing is off."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from litestar.plugins.opentelemetry import OpenTelemetryPlugin
from litestar.testing import TestClient
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from movies.app import create_app
from movies.platform.settings import MoviesSettings
from telemetry.tracing import build_tracer_provider

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from litestar import Litestar
    from opentelemetry.sdk.trace import ReadableSpan


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MoviesSettings:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/movies.db")
    monkeypatch.setenv("OTP_HMAC_SECRET", "h" * 32)
    monkeypatch.setenv("JWT_SECRET", "j" * 32)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # the relay just waits
    return MoviesSettings.from_env()


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced(
    settings: MoviesSettings, exporter: InMemorySpanExporter
) -> Iterator[TestClient[Litestar]]:
    provider = build_tracer_provider("movies", SimpleSpanProcessor(exporter))
    with TestClient(create_app(settings, tracer_provider=provider)) as client:
        exporter.clear()
        yield client
    provider.shutdown()


def _request_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """The spans of the requests made, without the relay's background statements."""
    spans = exporter.get_finished_spans()
    servers = {span.context.trace_id for span in spans if span.kind is SpanKind.SERVER}
    return [span for span in spans if span.context.trace_id in servers]


def test_the_server_span_is_named_by_the_route_template(
    traced: TestClient[Litestar], exporter: InMemorySpanExporter
) -> None:
    assert traced.get("/movies/123456").status_code == 404
    assert traced.get("/movies/654321").status_code == 404
    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == ["GET /movies/{movie_id}"] * 2
    assert {s.attributes["http.route"] for s in servers if s.attributes} == {"/movies/{movie_id}"}


def test_a_path_no_route_matches_is_named_by_its_method_alone(
    traced: TestClient[Litestar], exporter: InMemorySpanExporter
) -> None:
    assert traced.get("/no/such/path/42").status_code == 404
    [server] = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert server.name == "GET"
    assert "http.route" not in (server.attributes or {})


def test_a_request_has_no_asgi_send_or_receive_spans(
    traced: TestClient[Litestar], exporter: InMemorySpanExporter
) -> None:
    assert traced.post("/auth/codes", json={"email": "span@example.com"}).status_code == 202
    spans = _request_spans(exporter)
    assert [s.name for s in spans if s.kind is SpanKind.SERVER] == ["POST /auth/codes"]
    assert not [s.name for s in spans if s.kind is SpanKind.INTERNAL]


def test_statement_spans_name_the_operation_not_the_database_file(
    traced: TestClient[Litestar], exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    assert traced.post("/auth/codes", json={"email": "db@example.com"}).status_code == 202
    database = [s for s in _request_spans(exporter) if s.kind is SpanKind.CLIENT]
    assert database, "no statement spans"
    assert "INSERT" in {s.name for s in database}
    assert all(str(tmp_path) not in s.name and " " not in s.name for s in database)
    assert "connect" not in {s.name for s in database}, "a pool checkout is not a round trip"


def test_without_a_tracer_provider_nothing_is_instrumented(settings: MoviesSettings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        assert not SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry
        assert client.get("/movies/1").status_code == 404
    with pytest.raises(KeyError):
        app.plugins.get(OpenTelemetryPlugin)


def test_the_statement_listeners_go_when_the_traced_app_stops(
    settings: MoviesSettings, exporter: InMemorySpanExporter
) -> None:
    provider = build_tracer_provider("movies", SimpleSpanProcessor(exporter))
    with TestClient(create_app(settings, tracer_provider=provider)):
        assert SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry
    assert not SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry
