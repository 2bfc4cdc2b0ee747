"""Issue 3: probes, metrics, migrations, and riding out a PostgreSQL restart."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from movies_stack import MoviesStack, run_movies_command
from sqlalchemy.ext.asyncio import create_async_engine

from movies.catalogue.seed import seed_catalogue
from movies.platform.database import open_database
from movies.platform.orm import Base

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from devstack.postgres import PostgresServer

pytestmark = pytest.mark.integration


async def test_probes_answer_when_everything_is_up(movies_stack: MoviesStack) -> None:
    async with movies_stack.client() as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "kafka": "ok"}}


async def test_metrics_use_route_templates_and_the_design_names(movies_stack: MoviesStack) -> None:
    async with movies_stack.client() as client:
        await client.get("/movies/1")
        await client.get("/movies/2")
        reply = await client.get("/metrics")
    assert reply.headers["content-type"].startswith("application/openmetrics-text")
    text = reply.text
    assert 'path="/movies/{movie_id}"' in text
    assert 'path="/movies/1"' not in text
    for name in (
        "movies_otp_codes_issued_total",
        "movies_otp_verifications_total",
        "movies_kafka_publish_total",
        "movies_kafka_publish_duration_seconds_bucket",
        "movies_outbox_pending_messages",
        "movies_outbox_oldest_age_seconds",
    ):
        assert name in text, name


async def test_cli_migrates_and_the_seed_is_idempotent(movies_stack: MoviesStack) -> None:
    assert '"revision": "0002"' in run_movies_command("migrate", movies_stack.env)
    [(before,)] = await movies_stack.sql("SELECT count(*) FROM movies")
    database = open_database(movies_stack.database_url)
    try:
        added = await seed_catalogue(database)  # the fuzz test may have deleted seed films
        assert await seed_catalogue(database) == 0
    finally:
        await database.dispose()
    assert await movies_stack.sql("SELECT count(*) FROM movies") == [(before + added,)]


async def test_migrations_match_the_models(movies_stack: MoviesStack) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_async_engine(movies_stack.database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def _status(stack: MoviesStack, method: str, path: str, **kwargs: object) -> int:
    async with stack.client() as client:
        reply = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    if reply.status_code >= 500:
        assert reply.headers["content-type"] == "application/problem+json"
    return reply.status_code


@pytest.mark.parametrize("movies_stack", ["postgresql"], indirect=True)
async def test_postgres_restart_gives_503_then_recovers_without_restart(
    movies_stack: MoviesStack, postgres: PostgresServer
) -> None:
    assert await _status(movies_stack, "GET", "/movies") == 200
    await asyncio.to_thread(postgres.stop)
    try:
        assert await _status(movies_stack, "GET", "/movies") == 503
        assert await _status(movies_stack, "GET", "/readyz") == 503
        body = {"email": "outage@example.com"}
        assert await _status(movies_stack, "POST", "/auth/codes", json=body) == 503
    finally:
        await asyncio.to_thread(postgres.start)
    deadline = time.monotonic() + 20
    while await _status(movies_stack, "GET", "/movies") != 200:
        assert time.monotonic() < deadline, "the service did not recover from the restart"
        await asyncio.sleep(0.2)
    assert await _status(movies_stack, "GET", "/readyz") == 200
