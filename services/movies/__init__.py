"""The movie service: catalogue, passwordless sign-in by one-time code, watchlist."""
