"""The async SQLAlchemy engine and its session factories, owned by the app's lifespan.

SQLite and PostgreSQL need different care to stay correct under concurrent requests.
SQLite runs on stock aiosqlite with the transaction pattern SQLAlchemy documents for it
(the driver's own BEGIN off, SQLAlchemy's on): writers begin with ``BEGIN IMMEDIATE``,
so a read-then-write never fails on the lock upgrade, and wait in SQLite's busy handler
on aiosqlite's thread, never on the event loop. PostgreSQL gets bounded connect and
command timeouts so an outage turns into a quick 503 instead of a hung request. A driver
that cannot reach the server, or whose statement runs past the command timeout, raises a
bare ``OSError`` or ``TimeoutError``, which SQLAlchemy does not wrap; the engine raises
those as :class:`DatabaseUnavailableError`, so the HTTP layer can tell a database outage
from any other socket error or timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, ExceptionContext, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry


class DatabaseUnavailableError(SQLAlchemyError):
    """The driver could not connect, lost its socket, or the server did not answer in time."""


_BEGIN_OPTION: Final = "reelmail_sqlite_begin"
_SQLITE_BUSY_TIMEOUT_S: Final = 5.0
# Connections one process keeps to PostgreSQL, and never more: replicas x this must fit
# the server's max_connections (100 by default). The HTTP requests in flight, the relay's
# claim and gauge queries and the commit listener's LISTEN all draw on it.
DEFAULT_POOL_SIZE: Final = 20


@dataclass(frozen=True, slots=True)
class Database:
    """The engine plus two session factories: ``reads`` and ``writes``.

    Write through :meth:`write_session` or :meth:`write_connection`. On PostgreSQL they
    are the plain factories; on SQLite ``writes`` (and ``writer``, the engine behind it,
    sharing the engine's pool) takes the write lock up front, which is what makes
    select-then-update safe there.
    """

    engine: AsyncEngine
    writer: AsyncEngine
    reads: async_sessionmaker[AsyncSession]
    writes: async_sessionmaker[AsyncSession]
    autocommit: AsyncEngine | None = None
    """PostgreSQL only: the engine sharing the pool whose statements each commit on their
    own, so a statement is one round trip (no ``BEGIN``/``COMMIT`` around it)."""

    @contextlib.asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """Yield an ORM session in a write transaction, committed on leaving."""
        async with self.writes.begin() as session:
            yield session

    @contextlib.asynccontextmanager
    async def write_connection(self) -> AsyncIterator[AsyncConnection]:
        """Yield a Core connection in a write transaction, for the request path's statements."""
        async with self.writer.begin() as connection:
            yield connection

    @property
    def is_postgresql(self) -> bool:
        """Whether row locks (``FOR UPDATE SKIP LOCKED``) are available."""
        return self.engine.dialect.name == "postgresql"

    async def reachable(self, timeout: float) -> bool:  # noqa: ASYNC109 -- a readiness probe owns its deadline
        """Whether a pooled connection answers ``SELECT 1`` within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, TimeoutError):
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def open_database(
    database_url: str, timeout_seconds: float = 5.0, pool_size: int = DEFAULT_POOL_SIZE
) -> Database:
    """Create the engine and session factories; nothing connects until first use.

    On PostgreSQL the pool holds up to ``pool_size`` connections and opens no more;
    a request that finds none free waits up to ``timeout_seconds``, then answers 503.
    """
    autocommit = None
    if make_url(database_url).get_backend_name() == "sqlite":
        engine = _create_sqlite_engine(database_url)
        writer = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    else:
        engine = writer = _create_server_engine(database_url, timeout_seconds, pool_size)
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return Database(
        engine=engine,
        writer=writer,
        reads=async_sessionmaker(engine, expire_on_commit=False),
        writes=async_sessionmaker(writer, expire_on_commit=False),
        autocommit=autocommit,
    )


def _create_server_engine(database_url: str, timeout_seconds: float, pool_size: int) -> AsyncEngine:
    # hide_parameters: SQL errors end up in logs, and their parameters hold addresses.
    # No pool_pre_ping: on asyncpg it costs three round trips per checkout (BEGIN, a ping,
    # ROLLBACK). A connection that died in the pool fails its one request with a 503, and
    # SQLAlchemy then invalidates the pool, so the requests after it reconnect.
    # No overflow: SQLAlchemy's default (5 kept, 10 more opened on demand and closed when
    # given back) opened and closed a connection, and forked a PostgreSQL backend, for
    # many requests once more than 5 were in flight (docs/performance.md, B5).
    options: dict[str, Any] = {"hide_parameters": True, "pool_size": pool_size, "max_overflow": 0}
    if "+asyncpg" in database_url:
        options["connect_args"] = {
            "timeout": timeout_seconds,
            "command_timeout": timeout_seconds * 6,
        }
        options["pool_timeout"] = timeout_seconds
    engine = create_async_engine(database_url, **options)
    event.listen(engine.sync_engine, "do_connect", _connect_or_unavailable)
    event.listen(engine.sync_engine, "handle_error", _name_driver_failure)
    return engine


def _connect_or_unavailable(
    dialect: Dialect, _record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]
) -> DBAPIConnection:
    """Connect as the dialect would, naming a failed connect for what it is."""
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        msg = f"cannot connect to the database: {type(exc).__name__}"
        raise DatabaseUnavailableError(msg) from exc


def _name_driver_failure(context: ExceptionContext) -> BaseException | None:
    """Raise a bare socket error or timeout from a statement as the database being away."""
    original = context.original_exception
    if isinstance(original, OSError | TimeoutError):
        return DatabaseUnavailableError(f"the database did not answer: {type(original).__name__}")
    return None


def _create_sqlite_engine(database_url: str) -> AsyncEngine:
    connect_args = {"timeout": _SQLITE_BUSY_TIMEOUT_S}
    engine = create_async_engine(database_url, hide_parameters=True, connect_args=connect_args)
    _install_sqlite_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    """SQLAlchemy's documented SQLite transaction pattern, so writers can ask for IMMEDIATE."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def upsert(dialect_name: str, table: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """Start an INSERT that takes ``ON CONFLICT`` clauses on both supported backends."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def affected_rows(result: object) -> int:
    """Rows an UPDATE or DELETE changed (a ``CursorResult``'s ``rowcount``; 0 if unknown)."""
    return int(getattr(result, "rowcount", 0) or 0)
