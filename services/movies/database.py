"""The async SQLAlchemy engine and its session factories, owned by the app's lifespan.

SQLite and PostgreSQL need different care to stay correct under concurrent requests:
SQLite write transactions start with ``BEGIN IMMEDIATE`` so a read-then-write never
deadlocks on the lock upgrade; PostgreSQL gets bounded connect and command timeouts so
an outage turns into a quick 503 instead of a hung request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from movies.sqlite_connections import inline_connector

_BEGIN_OPTION = "reelmail_sqlite_begin"
_SQLITE_BUSY_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Database:
    """The engine plus two session factories: ``reads`` and ``writes``.

    Write through :meth:`write_session` or :meth:`write_connection`. On PostgreSQL they
    are the plain factories. On SQLite ``writes`` (and ``writer``, the engine behind it)
    takes the write lock up front, which is what makes select-then-update safe there,
    and writers take turns first, in arrival order (``write_turns``): see
    :meth:`write_connection`.
    """

    engine: AsyncEngine
    writer: AsyncEngine
    reads: async_sessionmaker[AsyncSession]
    writes: async_sessionmaker[AsyncSession]
    write_turns: asyncio.Lock | None = None

    @contextlib.asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """Yield an ORM session in a write transaction, committed on leaving."""
        if self.write_turns is None:
            async with self.writes.begin() as session:
                yield session
            return
        async with self.write_turns:
            session = self.writes()
            try:
                async with session.begin():
                    yield session
            finally:
                await session.close()

    @contextlib.asynccontextmanager
    async def write_connection(self) -> AsyncIterator[AsyncConnection]:
        """Yield a Core connection in a write transaction, for the request path's statements.

        SQLite has one writer connection. SQLAlchemy's own context managers hand it back
        from a task of their own, a loop turn after the commit; writers arriving in that
        turn queue in the pool, where a newcomer can take the connection ahead of one
        that waited, and under load some requests waited seconds (docs/performance.md).
        Here writers queue on a FIFO lock instead and the connection is closed inline,
        which cannot be cut short: nothing on an SQLite connection awaits
        (:mod:`movies.sqlite_connections`).
        """
        if self.write_turns is None:
            async with self.writer.begin() as connection:
                yield connection
            return
        async with self.write_turns:
            connection = await self.writer.connect()
            try:
                async with connection.begin():
                    yield connection
            finally:
                await connection.close()

    @property
    def is_postgresql(self) -> bool:
        """Whether row locks (``FOR UPDATE SKIP LOCKED``) are available."""
        return self.engine.dialect.name == "postgresql"

    async def reachable(self, timeout: float) -> bool:  # noqa: ASYNC109 -- a readiness probe owns its deadline
        """Whether a pooled connection answers ``SELECT 1`` within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self.writer.sync_engine.pool is not self.engine.sync_engine.pool:
            await self.writer.dispose()


def open_database(database_url: str, timeout_seconds: float = 5.0) -> Database:
    """Create the engine and session factories; nothing connects until first use."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine = _create_server_engine(database_url, timeout_seconds)
        return _database(engine, engine)
    engine = _create_sqlite_engine(url, timeout_seconds)
    if _is_file(url):
        # One writer connection: writers queue for it in asyncio, in order, instead of
        # sleeping in SQLite's busy handler (which would block the loop: see
        # movies.sqlite_connections).
        single = _create_sqlite_engine(url, timeout_seconds, pool_size=1, max_overflow=0)
    else:
        single = engine  # ``:memory:`` is one connection already; a second would be empty
    writer = single.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    return _database(engine, writer, asyncio.Lock())


def _database(
    engine: AsyncEngine, writer: AsyncEngine, write_turns: asyncio.Lock | None = None
) -> Database:
    return Database(
        engine=engine,
        writer=writer,
        reads=async_sessionmaker(engine, expire_on_commit=False),
        writes=async_sessionmaker(writer, expire_on_commit=False),
        write_turns=write_turns,
    )


def _create_server_engine(database_url: str, timeout_seconds: float) -> AsyncEngine:
    # hide_parameters: SQL errors end up in logs, and their parameters hold addresses.
    options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if "+asyncpg" in database_url:
        options["connect_args"] = {
            "timeout": timeout_seconds,
            "command_timeout": timeout_seconds * 6,
        }
        options["pool_timeout"] = timeout_seconds
    return create_async_engine(database_url, **options)


def _create_sqlite_engine(url: URL, timeout_seconds: float, **pool: int) -> AsyncEngine:
    """Give a file database inline connections; ``:memory:`` keeps aiosqlite's own."""
    options: dict[str, Any] = {"hide_parameters": True, **pool}
    if url.database is not None and _is_file(url):
        connect = inline_connector(url.database, busy_timeout_s=_SQLITE_BUSY_TIMEOUT_S)
        # A local file cannot go stale the way a server connection can: no pre-ping.
        options |= {"async_creator": connect, "pool_timeout": max(timeout_seconds, 30.0)}
    else:
        options |= {"connect_args": {"timeout": _SQLITE_BUSY_TIMEOUT_S}}
    engine = create_async_engine(url, **options)
    _install_sqlite_hooks(engine)
    return engine


def _is_file(url: URL) -> bool:
    return bool(url.database) and url.database != ":memory:"


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the driver, emit BEGIN, so writers can ask for IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        if dbapi_connection.isolation_level is not None:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Straight to the driver: through exec_driver_sql, BEGIN cost a full statement
        # execution and a span of its own on every transaction (docs/performance.md).
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        cursor = connection.connection.cursor()
        try:
            cursor.execute(f"BEGIN {mode}")
        finally:
            cursor.close()


def upsert(dialect_name: str, table: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """Start an INSERT that takes ``ON CONFLICT`` clauses on both supported backends."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
