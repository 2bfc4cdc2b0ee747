"""The JSON shape of a watchlist: catalogue movies with the time each was saved."""

from __future__ import annotations

from datetime import datetime

import msgspec

from movies.catalogue.payloads import MovieOut


class WatchlistItem(msgspec.Struct, frozen=True):
    """A movie on the watchlist and when it was added."""

    movie: MovieOut
    added_at: datetime


class Watchlist(msgspec.Struct, frozen=True):
    """The signed-in user's watchlist, most recently added first."""

    items: list[WatchlistItem]
