"""How the catalogue's errors answer over HTTP, for every controller that reads movies."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from movies.catalogue.service import DuplicateMovieError, MovieNotFoundError
from movies.platform.problems import problem_response

if TYPE_CHECKING:
    from litestar import Request, Response
    from litestar.types import ExceptionHandlersMap


def _on_not_found(request: Request[Any, Any, Any], exc: MovieNotFoundError) -> Response[Any]:
    detail = f"no movie has id {exc.movie_id}"
    return problem_response(request, HTTPStatus.NOT_FOUND, "movie-not-found", detail)


def _on_duplicate(request: Request[Any, Any, Any], _exc: DuplicateMovieError) -> Response[Any]:
    detail = "a movie with this title and year exists"
    return problem_response(request, HTTPStatus.CONFLICT, "duplicate-movie", detail)


# Set on the controllers, so no route handler catches these itself.
MOVIE_HANDLERS: Final[ExceptionHandlersMap] = {
    MovieNotFoundError: _on_not_found,
    DuplicateMovieError: _on_duplicate,
}
