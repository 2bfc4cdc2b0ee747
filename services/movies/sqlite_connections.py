"""SQLite connections for the async engine that run statements on the event loop thread.

aiosqlite gives every connection a thread and hands each call to it: a statement costs
four hops (cursor, execute, fetch, close) of about 0.2 ms each, so one code request
spent 6-9 ms waiting on hops and held the write lock for most of that. SQLite on a
local file answers a statement in microseconds, far less than a hop costs, so these
connections run statements inline and only move the one slow call, ``COMMIT`` (an
``fsync``), to a worker thread. SQLAlchemy's aiosqlite dialect drives them unchanged
(through ``async_creator``); they quack like :class:`aiosqlite.Connection`.

Inline statements are safe only because nothing here waits on a lock: the movies
engine gives SQLite writers a pool of exactly one connection (writers queue in asyncio,
not in SQLite's busy handler), and readers in WAL mode never wait for writers. Another
process holding the write lock would make the busy handler block the loop for up to
``busy_timeout_s``: the SQLite backend is for one process, as its relay already assumes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, Self


class InlineCursor:
    """An :class:`aiosqlite.Cursor` look-alike whose coroutines never suspend."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        """Wrap one DB-API cursor."""
        self._cursor = cursor

    async def __aenter__(self) -> Self:
        """SQLAlchemy enters every cursor it makes."""
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Close on leaving, as aiosqlite does."""
        self._cursor.close()

    def __aiter__(self) -> AsyncIterator[Any]:
        """Rows one by one (server-side cursors)."""
        return self._rows()

    async def _rows(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row

    @property
    def description(self) -> Any:  # noqa: ANN401 -- DB-API's own loose type
        """Column descriptions of the last statement, ``None`` if it returned no rows."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """The rowid of the last inserted row."""
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        """Default batch for :meth:`fetchmany`."""
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Self:
        """Run one statement."""
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Self:
        """Run one statement per parameter set."""
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:  # noqa: ANN401 -- a row, as the DB-API returns it
        """Return the next row or ``None``."""
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Return up to ``size`` rows."""
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        """Return every remaining row."""
        return self._cursor.fetchall()

    async def close(self) -> None:
        """Release the statement."""
        self._cursor.close()


class InlineConnection:
    """An :class:`aiosqlite.Connection` look-alike; only ``commit`` leaves the loop thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Wrap a connection opened with ``check_same_thread=False``."""
        self._connection: sqlite3.Connection | None = connection

    @property
    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            msg = "no active connection"
            raise ValueError(msg)
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        """The driver's transaction mode; ``None`` means SQLAlchemy emits BEGIN itself."""
        return self._live.isolation_level

    def cursor(self) -> InlineCursor:
        """Open a cursor; SQLAlchemy awaits its ``__aenter__``."""
        return InlineCursor(self._live.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        """Run one statement on a fresh cursor."""
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        """Commit the open transaction."""
        self._live.commit()

    async def rollback(self) -> None:
        """Discard the open transaction."""
        self._live.rollback()

    async def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate): nothing is in flight on another thread."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], *, deterministic: bool = False
    ) -> None:
        """Register a SQL function (SQLAlchemy adds ``regexp``)."""
        self._live.create_function(name, num_params, func, deterministic=deterministic)


def inline_connector(path: str, busy_timeout_s: float) -> Callable[[], Any]:
    """Return an ``async_creator`` opening :class:`InlineConnection` objects on ``path``."""

    async def connect() -> InlineConnection:
        connection = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        return InlineConnection(connection)

    return connect
