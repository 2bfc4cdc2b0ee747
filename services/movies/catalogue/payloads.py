"""The JSON shapes of the catalogue, with the limits the API enforces.

Constraints live on the types, so the OpenAPI schema, request validation and the
fuzz tests all read the same numbers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

import msgspec
from litestar.openapi.spec import Example
from litestar.params import Parameter

# Text without control characters (they break logs, and PostgreSQL refuses NUL) and
# without leading or trailing blanks. (The JSON decoder already refuses lone surrogates.)
_TEXT: Final = r"[^\x00-\x1f\x7f]"
_EDGE: Final = r"[^\x00-\x20\x7f]"
TITLE_PATTERN: Final = rf"^{_EDGE}(?:{_TEXT}*{_EDGE})?$"
FIRST_FILM_YEAR: Final = 1878
LAST_YEAR: Final = 2100
MAX_DATABASE_ID: Final = 2**31 - 1

MovieIdParam = Annotated[
    int,
    Parameter(
        ge=1, le=MAX_DATABASE_ID, description="The movie's id.", examples=[Example(value=42)]
    ),
]
"""A movie id in a route's path, as the catalogue and the watchlist routes take it."""


class Genre(StrEnum):
    """The closed set of genres, so filters and seeds cannot drift apart by spelling."""

    ACTION = "action"
    ADVENTURE = "adventure"
    ANIMATION = "animation"
    BIOGRAPHY = "biography"
    COMEDY = "comedy"
    CRIME = "crime"
    DOCUMENTARY = "documentary"
    DRAMA = "drama"
    FAMILY = "family"
    FANTASY = "fantasy"
    HISTORY = "history"
    HORROR = "horror"
    MUSIC = "music"
    MUSICAL = "musical"
    MYSTERY = "mystery"
    ROMANCE = "romance"
    SCIENCE_FICTION = "science_fiction"
    SPORT = "sport"
    THRILLER = "thriller"
    WAR = "war"
    WESTERN = "western"


Title = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=200, pattern=TITLE_PATTERN, examples=["Alien"]),
]
Year = Annotated[int, msgspec.Meta(ge=FIRST_FILM_YEAR, le=LAST_YEAR, examples=[1979])]
Runtime = Annotated[int, msgspec.Meta(ge=1, le=1500, examples=[117])]
Genres = Annotated[
    list[Genre],
    msgspec.Meta(min_length=1, max_length=6, examples=[["horror", "science_fiction"]]),
]
MovieId = Annotated[int, msgspec.Meta(ge=1, le=MAX_DATABASE_ID, examples=[42])]


class MovieOut(msgspec.Struct, frozen=True):
    """A movie as the API shows it."""

    id: MovieId
    title: Title
    year: Year
    runtime_minutes: Runtime
    genres: list[Genre]


class MovieCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new catalogue entry; (title, year) must not exist yet."""

    title: Title
    year: Year
    runtime_minutes: Runtime
    genres: Genres


class MoviePatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A partial update: only the fields present change."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    year: Year | msgspec.UnsetType = msgspec.UNSET
    runtime_minutes: Runtime | msgspec.UnsetType = msgspec.UNSET
    genres: Genres | msgspec.UnsetType = msgspec.UNSET


class MoviePage(msgspec.Struct, frozen=True):
    """One page of search results; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[MovieOut]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["WyJBbGllbiIsIDEyXQ"])]
