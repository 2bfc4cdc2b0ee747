"""The database pool and its timeouts, on a real PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from movies.platform.database import DatabaseUnavailableError, open_database

if TYPE_CHECKING:
    from devstack.postgres import PostgresServer

pytestmark = pytest.mark.integration


async def test_a_statement_past_the_command_timeout_is_the_database_unavailable(
    postgres: PostgresServer,
) -> None:
    # timeout_seconds=0.2 gives asyncpg a command timeout of 1.2 s.
    database = open_database(postgres.url(), timeout_seconds=0.2)
    try:
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
            with pytest.raises(DatabaseUnavailableError) as raised:
                await connection.execute(text("SELECT pg_sleep(5)"))
        assert isinstance(raised.value.__cause__, TimeoutError)
        assert await database.reachable(5.0), "the pool recovers for the next request"
    finally:
        await database.dispose()


async def test_the_pool_opens_no_connection_beyond_its_size_and_reuses_its_own(
    postgres: PostgresServer,
) -> None:
    database = open_database(postgres.url(), timeout_seconds=0.3, pool_size=2)
    try:
        async with database.engine.connect() as first, database.engine.connect() as second:
            pids = {
                (await first.execute(text("SELECT pg_backend_pid()"))).scalar(),
                (await second.execute(text("SELECT pg_backend_pid()"))).scalar(),
            }
            with pytest.raises(PoolTimeoutError):
                async with database.engine.connect() as third:
                    await third.execute(text("SELECT 1"))
        async with database.engine.connect() as again:
            reused = (await again.execute(text("SELECT pg_backend_pid()"))).scalar()
        assert reused in pids, "a connection given back is kept, not closed and reopened"
    finally:
        await database.dispose()
