"""Each signed-in user's watchlist of catalogue movies."""
