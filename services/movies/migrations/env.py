"""Alembic environment: migrations run on the connection ``movies.schema_migrations`` hands over.

The service's own code opens that connection (with its engine settings and, on
PostgreSQL, an advisory lock), so the CLI, the start-up hook and the Helm Job all
migrate the same way.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

# Importing each domain's tables registers them on Base.metadata.
import movies.auth.models
import movies.catalogue.models
import movies.outbox.models
import movies.watchlist.models  # noqa: F401 -- imported for its tables
from movies.platform.orm import Base


def run_migrations() -> None:
    """Apply the pending revisions inside the caller's transaction."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        msg = "run migrations with `python -m movies migrate`, which supplies the connection"
        raise TypeError(msg)
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
