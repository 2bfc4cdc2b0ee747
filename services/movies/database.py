"""The async SQLAlchemy engine and session factory, owned by the app's lifespan."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from movies.models import Base


def create_engine(database_url: str) -> AsyncEngine:
    """Create the engine; SQLite gets a busy timeout so concurrent writers wait, not fail."""
    connect_args = {"timeout": 30} if database_url.startswith("sqlite") else {}
    return create_async_engine(database_url, connect_args=connect_args, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    """Create missing tables. TODO(#3): replace with Alembic migrations."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
