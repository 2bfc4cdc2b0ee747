"""HTTP routes of the catalogue: anyone may search and read; admins change it."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter

from movies.auth.access_tokens import admins_only
from movies.catalogue.cursors import InvalidCursorError, decode_cursor
from movies.catalogue.payloads import (
    FIRST_FILM_YEAR,
    LAST_YEAR,
    Genre,
    MovieCreate,
    MovieIdParam,
    MovieOut,
    MoviePage,
    MoviePatch,
)
from movies.catalogue.problems import MOVIE_HANDLERS
from movies.catalogue.service import Catalogue, MovieQuery
from movies.platform.problems import problem_responses
from movies.platform.route_access import BEARER_REQUIRED, PUBLIC

MAX_PAGE_SIZE = 100
_SEARCH_TEXT = r"^[^\x00-\x1f\x7f]*$"

_CREATE_EXAMPLE = Example(
    summary="A film",
    value={
        "title": "Alien",
        "year": 1979,
        "runtime_minutes": 117,
        "genres": ["horror", "science_fiction"],
    },
)
_PATCH_EXAMPLE = Example(summary="Fix the runtime", value={"runtime_minutes": 116})
# The bodies refuse unknown fields (a typo in a PATCH must not be a silent no-op).
_CLOSED = {"additionalProperties": False}


def movie_query(  # noqa: PLR0913, PLR0917 -- one argument per documented query parameter
    q: Annotated[
        str | None,
        Parameter(max_length=100, pattern=_SEARCH_TEXT, description="Part of the title, any case."),
    ] = None,
    genre: Annotated[Genre | None, Parameter(description="Only movies with this genre.")] = None,
    year_from: Annotated[int | None, Parameter(ge=FIRST_FILM_YEAR, le=LAST_YEAR)] = None,
    year_to: Annotated[int | None, Parameter(ge=FIRST_FILM_YEAR, le=LAST_YEAR)] = None,
    limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = 20,
    cursor: Annotated[
        str | None,
        Parameter(
            max_length=600,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="`next_cursor` of the previous page.",
        ),
    ] = None,
) -> MovieQuery:
    """Collect the search parameters; a cursor this service did not make is a 400."""
    try:
        after = decode_cursor(cursor) if cursor else None
    except InvalidCursorError:
        error = {"key": "cursor", "message": "not a cursor from this API", "source": "query"}
        raise ValidationException(detail="cursor: invalid", extra=[error]) from None
    return MovieQuery(
        text=q,
        genre=genre,
        year_from=year_from,
        year_to=year_to,
        limit=limit,
        after=after,
    )


class MovieController(Controller):
    """Anyone may search and read; changes need the session token of an admin address."""

    path = "/movies"
    tags = ["movies"]  # noqa: RUF012 -- Litestar reads this class attribute as is
    exception_handlers = MOVIE_HANDLERS
    dependencies = {"search": Provide(movie_query, sync_to_thread=False)}  # noqa: RUF012 -- read by Litestar

    @get(
        "/",
        operation_id="listMovies",
        opt=PUBLIC,
        summary="Search the catalogue",
        responses=problem_responses(400, 503),
    )
    async def list_movies(
        self, catalogue: NamedDependency[Catalogue], search: NamedDependency[MovieQuery]
    ) -> MoviePage:
        """Movies matching every given filter, in (title, id) order, one page at a time."""
        return await catalogue.search(search)

    @get(
        "/{movie_id:int}",
        operation_id="getMovie",
        opt=PUBLIC,
        summary="One movie",
        responses=problem_responses(400, 404, 503),
    )
    async def get_movie(
        self, catalogue: NamedDependency[Catalogue], movie_id: MovieIdParam
    ) -> MovieOut:
        """Return the movie with this id."""
        return await catalogue.get(movie_id)

    @post(
        "/",
        operation_id="createMovie",
        guards=[admins_only],
        security=BEARER_REQUIRED,
        summary="Add a movie (admins)",
        responses=problem_responses(400, 401, 403, 409, 413, 503),
    )
    async def create_movie(
        self,
        data: Annotated[MovieCreate, Body(examples=[_CREATE_EXAMPLE], schema_extra=_CLOSED)],
        catalogue: NamedDependency[Catalogue],
    ) -> MovieOut:
        """Add a movie; the title and year pair must be new."""
        return await catalogue.create(data)

    @patch(
        "/{movie_id:int}",
        operation_id="updateMovie",
        guards=[admins_only],
        security=BEARER_REQUIRED,
        summary="Change a movie (admins)",
        responses=problem_responses(400, 401, 403, 404, 409, 413, 503),
    )
    async def update_movie(
        self,
        movie_id: MovieIdParam,
        data: Annotated[MoviePatch, Body(examples=[_PATCH_EXAMPLE], schema_extra=_CLOSED)],
        catalogue: NamedDependency[Catalogue],
    ) -> MovieOut:
        """Change only the fields given."""
        return await catalogue.update(movie_id, data)

    @delete(
        "/{movie_id:int}",
        operation_id="deleteMovie",
        guards=[admins_only],
        security=BEARER_REQUIRED,
        summary="Remove a movie (admins)",
        responses=problem_responses(400, 401, 403, 404, 503),
    )
    async def delete_movie(
        self, movie_id: MovieIdParam, catalogue: NamedDependency[Catalogue]
    ) -> None:
        """Remove the movie; it leaves every watchlist too."""
        await catalogue.delete(movie_id)
