"""Applying the Alembic migrations, from the CLI (``python -m movies migrate``) or at start-up.

On PostgreSQL a transaction-scoped advisory lock serialises concurrent runs (several
replicas starting at once, or the Helm Job racing a pod); on SQLite the write lock
taken by ``BEGIN IMMEDIATE`` does the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from movies.platform.database import Database

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
_ADVISORY_LOCK_KEY: Final = 0x7265656C6D61696C  # "reelmail"


def alembic_config() -> Config:
    """Build an Alembic configuration that needs no ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def upgrade_schema(database: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` in one transaction."""
    async with database.write_connection() as connection:
        await connection.run_sync(_upgrade, revision)


async def current_revision(database: Database) -> str | None:
    """Return the revision the database is at (None before the first migration)."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(_current_revision)


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
