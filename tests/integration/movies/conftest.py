"""Fixtures of the movies integration tests: a real PostgreSQL, and a movies + mailer pair
per database backend, each on its own topic so the session stack's mailer never sees it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from movies_stack import MoviesStack, start_stack

if TYPE_CHECKING:
    from collections.abc import Iterator

    from devstack import KafkaBroker
    from devstack.postgres import PostgresServer
    from devstack.smtp_sink import MailSink

BACKENDS = ["sqlite", "postgresql"]


def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A fresh, empty database of the given backend."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('movies-db') / 'movies.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"movies_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session", params=BACKENDS)
def movies_stack(
    request: pytest.FixtureRequest,
    kafka: KafkaBroker,
    smtp_sink: MailSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MoviesStack]:
    backend: str = request.param
    stack = start_stack(
        backend=backend,
        database_url=database_url(backend, request, tmp_path_factory),
        broker=kafka,
        sink=smtp_sink,
        workdir=tmp_path_factory.mktemp(f"movies-{backend}"),
    )
    yield stack
    stack.stop()
    if request.session.testsfailed:
        print(f"\n--- movies ({backend}) log ---\n{stack.movies.log_tail(120)}")
        print(f"\n--- mailer ({backend}) log ---\n{stack.mailer.log_tail(60)}")


@pytest.fixture(scope="session")
async def admin_token(movies_stack: MoviesStack) -> str:
    return await movies_stack.sign_in(movies_stack.admin_email)
