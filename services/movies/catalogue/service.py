"""Catalogue queries and changes, each in its own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, tuple_
from sqlalchemy.exc import IntegrityError

from movies.catalogue.cursors import Cursor
from movies.catalogue.models import Movie, MovieGenre
from movies.catalogue.payloads import Genre, MovieCreate, MovieOut, MoviePage, MoviePatch
from movies.platform.database import Database, affected_rows

if TYPE_CHECKING:
    from sqlalchemy.sql import Select


class MovieNotFoundError(LookupError):
    """No movie has this id."""

    def __init__(self, movie_id: int) -> None:
        """Keep the id, for the 404's detail."""
        super().__init__(movie_id)
        self.movie_id = movie_id


class DuplicateMovieError(ValueError):
    """Another movie already has this title and year."""


@dataclass(frozen=True, slots=True)
class MovieQuery:
    """A search: every given filter must match; results come in (title, id) order."""

    text: str | None = None
    genre: Genre | None = None
    year_from: int | None = None
    year_to: int | None = None
    limit: int = 20
    after: Cursor | None = None


def to_payload(movie: Movie) -> MovieOut:
    """Convert a stored movie to its API shape."""
    return MovieOut(
        id=movie.id,
        title=movie.title,
        year=movie.year,
        runtime_minutes=movie.runtime_minutes,
        genres=[Genre(name) for name in movie.genres],
    )


def genre_rows(genres: list[Genre]) -> list[MovieGenre]:
    """One row per distinct genre; duplicates in a request are harmless."""
    return [MovieGenre(genre=name) for name in sorted({genre.value for genre in genres})]


def _filtered(query: MovieQuery) -> Select[Movie]:
    statement = select(Movie)
    if query.text:
        statement = statement.where(Movie.title.icontains(query.text, autoescape=True))
    if query.genre is not None:
        statement = statement.where(Movie.genre_rows.any(MovieGenre.genre == query.genre.value))
    if query.year_from is not None:
        statement = statement.where(Movie.year >= query.year_from)
    if query.year_to is not None:
        statement = statement.where(Movie.year <= query.year_to)
    if query.after is not None:
        position = tuple_(query.after.title, query.after.movie_id)
        statement = statement.where(tuple_(Movie.title, Movie.id) > position)
    return statement.order_by(Movie.title, Movie.id)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The movie catalogue over the service's database."""

    database: Database

    async def search(self, query: MovieQuery) -> MoviePage:
        """One page of matches plus the cursor of the next page (None on the last)."""
        async with self.database.reads() as session:
            rows = list(await session.scalars(_filtered(query).limit(query.limit + 1)))
        page, more = rows[: query.limit], len(rows) > query.limit
        cursor = Cursor(page[-1].title, page[-1].id).encode() if more else None
        return MoviePage(items=[to_payload(movie) for movie in page], next_cursor=cursor)

    async def get(self, movie_id: int) -> MovieOut:
        """One movie, or :class:`MovieNotFoundError`."""
        async with self.database.reads() as session:
            movie = await session.get(Movie, movie_id)
            if movie is None:
                raise MovieNotFoundError(movie_id)
            return to_payload(movie)

    async def create(self, data: MovieCreate) -> MovieOut:
        """Add a movie; (title, year) must be new."""
        now = datetime.now(UTC)
        movie = Movie(
            title=data.title,
            year=data.year,
            runtime_minutes=data.runtime_minutes,
            created_at=now,
            updated_at=now,
            genre_rows=genre_rows(data.genres),
        )
        try:
            async with self.database.write_session() as session:
                session.add(movie)
        except IntegrityError:
            raise DuplicateMovieError(data.title) from None
        return to_payload(movie)

    async def update(self, movie_id: int, patch: MoviePatch) -> MovieOut:
        """Change the given fields of a movie."""
        try:
            async with self.database.write_session() as session:
                movie = await session.get(Movie, movie_id)
                if movie is None:
                    raise MovieNotFoundError(movie_id)
                _apply(movie, patch)
                await session.flush()
                return to_payload(movie)
        except IntegrityError:
            raise DuplicateMovieError(movie_id) from None

    async def delete(self, movie_id: int) -> None:
        """Remove a movie (and it leaves every watchlist with it)."""
        async with self.database.write_session() as session:
            result = await session.execute(delete(Movie).where(Movie.id == movie_id))
        if not affected_rows(result):
            raise MovieNotFoundError(movie_id)


def _apply(movie: Movie, patch: MoviePatch) -> None:
    if isinstance(patch.title, str):
        movie.title = patch.title
    if isinstance(patch.year, int):
        movie.year = patch.year
    if isinstance(patch.runtime_minutes, int):
        movie.runtime_minutes = patch.runtime_minutes
    if isinstance(patch.genres, list):
        movie.genre_rows = genre_rows(patch.genres)
    movie.updated_at = datetime.now(UTC)
