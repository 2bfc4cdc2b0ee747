"""SQLite writes on stock aiosqlite: transactions commit or roll back whole, and writers
that read before they write, arriving together, all commit without losing an update.

These run on a real SQLite file through the real engine; nothing is faked.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from movies.platform.database import Database, open_database

if TYPE_CHECKING:
    from pathlib import Path


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


async def test_concurrent_read_then_write_transactions_lose_no_update(
    database: Database,
) -> None:
    """Writers that read a row, then update it, all commit: none fails on the lock upgrade.

    A deferred transaction that read before another writer committed cannot upgrade to a
    write in WAL mode (SQLite answers "database is locked" without waiting), so this
    fails unless writers take the write lock up front (``BEGIN IMMEDIATE``).
    """
    async with database.write_connection() as connection:
        await connection.execute(text("INSERT INTO t (n) VALUES (0)"))

    async def increment() -> None:
        async with database.write_connection() as connection:
            n = (await connection.execute(text("SELECT n FROM t"))).scalar_one()
            await asyncio.sleep(0)  # a turn of the loop between the read and the write
            await connection.execute(text("UPDATE t SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(increment() for _ in range(50)))
    async with database.engine.connect() as connection:
        assert (await connection.execute(text("SELECT n FROM t"))).scalar_one() == 50
    await database.dispose()


async def test_a_write_session_commits_orm_work(database: Database) -> None:
    async with database.write_session() as session:
        await session.execute(text("INSERT INTO t (n) VALUES (7)"))
    async with database.reads() as session:
        assert (await session.execute(text("SELECT n FROM t"))).scalar_one() == 7
    await database.dispose()
