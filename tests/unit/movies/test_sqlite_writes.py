"""SQLite writes: inline connections behave like aiosqlite's, and writers go in arrival order.

These run on a real SQLite file through the real engine; nothing is faked.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from movies.database import Database, open_database
from movies.sqlite_connections import InlineConnection, inline_connector


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'writes.db'}")
    async with db.write_connection() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    return db


async def test_statements_commit_and_roll_back(database: Database) -> None:
    async with database.write_connection() as connection:
        await connection.execute(text("INSERT INTO t (n) VALUES (1), (2)"))
    with pytest.raises(RuntimeError, match="boom"):
        await _insert_then_fail(database)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()
    assert rows == [1, 2]
    await database.dispose()


async def _insert_then_fail(database: Database) -> None:
    async with database.write_connection() as connection:
        await connection.execute(text("INSERT INTO t (n) VALUES (3)"))
        raise RuntimeError("boom")  # noqa: EM101 -- the test's own marker


async def test_writers_take_turns_in_arrival_order(database: Database) -> None:
    """Writers arriving while others commit get the connection in the order they came.

    SQLAlchemy's pool alone lets a newcomer take a just-returned connection ahead of a
    writer already waiting (which then queues again at the back): under load some
    requests waited seconds. Here newcomers arrive every loop turn, as requests do.
    """
    arrived: list[int] = []
    held: list[int] = []

    async def write(n: int) -> None:
        arrived.append(n)
        async with database.write_connection() as connection:
            held.append(n)
            await connection.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0)  # a turn of the loop inside the transaction

    writers = []
    for n in range(200):
        writers.append(asyncio.create_task(write(n)))
        await asyncio.sleep(0)
    await asyncio.gather(*writers)
    assert held == arrived
    async with database.engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one()
    assert count == 200
    await database.dispose()


async def test_a_write_session_commits_orm_work(database: Database) -> None:
    async with database.write_session() as session:
        await session.execute(text("INSERT INTO t (n) VALUES (7)"))
    async with database.reads() as session:
        assert (await session.execute(text("SELECT n FROM t"))).scalar_one() == 7
    await database.dispose()


async def test_inline_connection_reports_sqlite_errors_and_closes_twice(tmp_path: Path) -> None:
    connect = inline_connector(str(tmp_path / "raw.db"), busy_timeout_s=1.0)
    connection: InlineConnection = await connect()
    cursor = await connection.execute("SELECT 40 + 2")
    assert await cursor.fetchall() == [(42,)]
    with pytest.raises(Exception, match="no such table"):
        await connection.execute("SELECT * FROM missing")
    await connection.close()
    await connection.close()
    with pytest.raises(ValueError, match="no active connection"):
        connection.cursor()
