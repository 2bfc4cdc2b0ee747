"""The movie service: catalogue, passwordless sign-in by one-time code, watchlist.

Grouped by domain (auth, catalogue, watchlist, outbox) over ``platform``, with the
composition root here; docs/architecture.md says what goes where.
"""
