"""``python -m movies [serve|migrate|seed]``: run the service, apply migrations, load the seed."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, TypeVar

import structlog
import uvicorn

from envsettings import SettingsError
from movies.app import create_app
from movies.catalogue.seed import seed_catalogue
from movies.platform.database import open_database
from movies.platform.settings import MaintenanceSettings, MoviesSettings, get_settings
from movies.schema_migrations import current_revision, upgrade_schema
from telemetry import configure_logging
from telemetry.tracing import shutdown_tracing, start_tracing

if TYPE_CHECKING:
    from collections.abc import Callable

log = structlog.get_logger(__name__)
_S = TypeVar("_S")


def main(argv: list[str] | None = None) -> None:
    """Validate the settings, configure logging, then run the chosen command."""
    parser = argparse.ArgumentParser(prog="movies", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=("serve", "migrate", "seed"),
        help="serve the API (default), apply migrations, or load the seed catalogue",
    )
    command = parser.parse_args(argv).command
    if command == "serve":
        settings = _settings(get_settings)
        configure_logging("movies", level=settings.logs.level, fmt=settings.logs.fmt)
        _serve(settings)
        return
    maintenance = _settings(MaintenanceSettings.from_env)
    configure_logging("movies", level=maintenance.logs.level, fmt=maintenance.logs.fmt)
    asyncio.run(_migrate(maintenance) if command == "migrate" else _seed(maintenance))


def _settings(read: Callable[[], _S]) -> _S:
    try:
        return read()
    except SettingsError as exc:
        sys.stderr.write(f"movies: configuration error: {exc}\n")
        raise SystemExit(2) from None


def _serve(settings: MoviesSettings) -> None:
    provider = start_tracing("movies", settings.kafka.bootstrap_servers)
    try:
        uvicorn.run(
            create_app(settings, tracer_provider=provider),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=settings.access_log,
            server_header=False,
        )
    finally:
        shutdown_tracing(provider)


async def _migrate(settings: MaintenanceSettings) -> None:
    """Apply every pending migration; the Helm hook and ``make run`` call this too."""
    database = open_database(settings.database_url, settings.database_timeout_seconds)
    try:
        await upgrade_schema(database)
        log.info("database migrated", revision=await current_revision(database))
    finally:
        await database.dispose()


async def _seed(settings: MaintenanceSettings) -> None:
    """Migrate, then add the seed films that are missing (running it twice adds nothing)."""
    database = open_database(settings.database_url, settings.database_timeout_seconds)
    try:
        await upgrade_schema(database)
        added = await seed_catalogue(database)
        log.info("seed catalogue loaded", added=added)
    finally:
        await database.dispose()


if __name__ == "__main__":
    main()
