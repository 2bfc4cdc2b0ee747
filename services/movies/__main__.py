"""``python -m movies``: run the movie service with uvicorn."""

from __future__ import annotations

import sys

import uvicorn

from envsettings import SettingsError
from movies.app import create_app
from movies.settings import get_settings
from telemetry import configure_logging


def main() -> None:
    """Validate the settings, configure logging, serve until SIGTERM/SIGINT."""
    try:
        settings = get_settings()
    except SettingsError as exc:
        sys.stderr.write(f"movies: configuration error: {exc}\n")
        raise SystemExit(2) from None
    configure_logging("movies", level=settings.log_level, fmt=settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        server_header=False,
    )


if __name__ == "__main__":
    main()
