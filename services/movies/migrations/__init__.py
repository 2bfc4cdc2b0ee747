"""Alembic migrations of the movie service's schema; apply with ``python -m movies migrate``."""
