"""HTTP routes of the signed-in user's watchlist."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency

from movies.auth.access_tokens import Principal
from movies.catalogue.payloads import MovieIdParam
from movies.catalogue.problems import MOVIE_HANDLERS
from movies.platform.problems import problem_responses
from movies.platform.route_access import BEARER_REQUIRED
from movies.watchlist.payloads import Watchlist
from movies.watchlist.service import WatchlistStore


class WatchlistController(Controller):
    """``/me/watchlist``: every route needs a session token."""

    path = "/me/watchlist"
    tags = ["watchlist"]  # noqa: RUF012 -- Litestar reads this class attribute as is
    exception_handlers = MOVIE_HANDLERS
    security = BEARER_REQUIRED

    @get(
        "/",
        operation_id="getWatchlist",
        summary="Your watchlist",
        responses=problem_responses(401, 503),
    )
    async def get_watchlist(
        self,
        request: Request[Principal, Any, Any],
        watchlist_store: NamedDependency[WatchlistStore],
    ) -> Watchlist:
        """List the movies you saved, most recent first."""
        return await watchlist_store.items(request.user.user_id)

    @put(
        "/{movie_id:int}",
        status_code=204,
        operation_id="addToWatchlist",
        summary="Save a movie",
        responses=problem_responses(400, 401, 404, 503),
    )
    async def add_to_watchlist(
        self,
        request: Request[Principal, Any, Any],
        movie_id: MovieIdParam,
        watchlist_store: NamedDependency[WatchlistStore],
    ) -> None:
        """Put the movie on your list; doing it twice is harmless."""
        await watchlist_store.add(request.user.user_id, movie_id)

    @delete(
        "/{movie_id:int}",
        operation_id="removeFromWatchlist",
        summary="Forget a movie",
        responses=problem_responses(400, 401, 404, 503),
    )
    async def remove_from_watchlist(
        self,
        request: Request[Principal, Any, Any],
        movie_id: MovieIdParam,
        watchlist_store: NamedDependency[WatchlistStore],
    ) -> None:
        """Take the movie off your list; removing an absent one is harmless."""
        await watchlist_store.remove(request.user.user_id, movie_id)
