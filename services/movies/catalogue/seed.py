"""The starting catalogue: well-known films, facts only (title, year, runtime, genres).

Runtimes are the usual theatrical cut in minutes. ``python -m movies seed`` (and
``make run``) loads them; films already present, by title and year, are left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, NamedTuple

from sqlalchemy import select

from movies.catalogue.models import Movie
from movies.catalogue.payloads import Genre
from movies.catalogue.service import genre_rows

if TYPE_CHECKING:
    from movies.platform.database import Database


class SeedFilm(NamedTuple):
    """One film of the starting catalogue."""

    title: str
    year: int
    runtime_minutes: int
    genres: tuple[str, ...]


SEED_FILMS: Final = (
    SeedFilm("Nosferatu", 1922, 94, ("horror", "fantasy")),
    SeedFilm("Metropolis", 1927, 153, ("science_fiction", "drama")),
    SeedFilm("Modern Times", 1936, 87, ("comedy", "drama")),
    SeedFilm("The Wizard of Oz", 1939, 102, ("fantasy", "family", "musical")),
    SeedFilm("Citizen Kane", 1941, 119, ("drama", "mystery")),
    SeedFilm("Casablanca", 1942, 102, ("drama", "romance", "war")),
    SeedFilm("Bicycle Thieves", 1948, 89, ("drama",)),
    SeedFilm("The Third Man", 1949, 104, ("mystery", "thriller")),
    SeedFilm("Rashomon", 1950, 88, ("crime", "drama", "mystery")),
    SeedFilm("Sunset Boulevard", 1950, 110, ("drama",)),
    SeedFilm("High Noon", 1952, 85, ("western", "drama")),
    SeedFilm("Singin' in the Rain", 1952, 103, ("musical", "comedy", "romance")),
    SeedFilm("Tokyo Story", 1953, 136, ("drama",)),
    SeedFilm("Seven Samurai", 1954, 207, ("action", "drama")),
    SeedFilm("Rear Window", 1954, 112, ("mystery", "thriller")),
    SeedFilm("The Seventh Seal", 1957, 96, ("drama", "fantasy")),
    SeedFilm("Vertigo", 1958, 128, ("mystery", "romance", "thriller")),
    SeedFilm("Some Like It Hot", 1959, 121, ("comedy", "romance")),
    SeedFilm("North by Northwest", 1959, 136, ("thriller", "adventure", "mystery")),
    SeedFilm("The 400 Blows", 1959, 99, ("drama",)),
    SeedFilm("Psycho", 1960, 109, ("horror", "mystery", "thriller")),
    SeedFilm("The Apartment", 1960, 125, ("comedy", "drama", "romance")),
    SeedFilm("Lawrence of Arabia", 1962, 222, ("adventure", "biography", "drama", "war")),
    SeedFilm("8½", 1963, 138, ("drama",)),
    SeedFilm("The Good, the Bad and the Ugly", 1966, 161, ("western",)),
    SeedFilm("The Godfather", 1972, 175, ("crime", "drama")),
    SeedFilm("The Exorcist", 1973, 122, ("horror",)),
    SeedFilm("Chinatown", 1974, 130, ("mystery", "crime", "drama")),
    SeedFilm("Jaws", 1975, 124, ("thriller", "adventure")),
    SeedFilm("One Flew Over the Cuckoo's Nest", 1975, 133, ("drama",)),
    SeedFilm("Taxi Driver", 1976, 114, ("crime", "drama")),
    SeedFilm("Annie Hall", 1977, 93, ("comedy", "romance")),
    SeedFilm("Star Wars", 1977, 121, ("science_fiction", "adventure", "action")),
    SeedFilm("Alien", 1979, 117, ("horror", "science_fiction")),
    SeedFilm("Apocalypse Now", 1979, 147, ("drama", "war")),
    SeedFilm("The Empire Strikes Back", 1980, 124, ("science_fiction", "adventure", "action")),
    SeedFilm("Raging Bull", 1980, 129, ("biography", "drama", "sport")),
    SeedFilm("The Shining", 1980, 144, ("horror",)),
    SeedFilm("Raiders of the Lost Ark", 1981, 115, ("action", "adventure")),
    SeedFilm("Blade Runner", 1982, 117, ("science_fiction", "thriller")),
    SeedFilm("E.T. the Extra-Terrestrial", 1982, 115, ("science_fiction", "family")),
    SeedFilm("Back to the Future", 1985, 116, ("science_fiction", "comedy", "adventure")),
    SeedFilm("Full Metal Jacket", 1987, 116, ("drama", "war")),
    SeedFilm("Die Hard", 1988, 132, ("action", "thriller")),
    SeedFilm("My Neighbor Totoro", 1988, 86, ("animation", "family", "fantasy")),
    SeedFilm("Goodfellas", 1990, 146, ("biography", "crime", "drama")),
    SeedFilm("Terminator 2: Judgment Day", 1991, 137, ("action", "science_fiction")),
    SeedFilm("The Silence of the Lambs", 1991, 118, ("crime", "horror", "thriller")),
    SeedFilm("Groundhog Day", 1993, 101, ("comedy", "fantasy", "romance")),
    SeedFilm("Jurassic Park", 1993, 127, ("adventure", "science_fiction")),
    SeedFilm("Schindler's List", 1993, 195, ("biography", "drama", "history")),
    SeedFilm("Forrest Gump", 1994, 142, ("comedy", "drama", "romance")),
    SeedFilm("Hoop Dreams", 1994, 170, ("documentary", "sport")),
    SeedFilm("Pulp Fiction", 1994, 154, ("crime", "drama")),
    SeedFilm("The Lion King", 1994, 88, ("animation", "family", "musical")),
    SeedFilm("The Shawshank Redemption", 1994, 142, ("drama",)),
    SeedFilm("Heat", 1995, 170, ("action", "crime", "thriller")),
    SeedFilm("Seven", 1995, 127, ("crime", "mystery", "thriller")),
    SeedFilm("The Usual Suspects", 1995, 106, ("crime", "mystery", "thriller")),
    SeedFilm("Toy Story", 1995, 81, ("animation", "comedy", "family")),
    SeedFilm("Fargo", 1996, 98, ("comedy", "crime", "thriller")),
    SeedFilm("Life Is Beautiful", 1997, 116, ("comedy", "drama", "war")),
    SeedFilm("Princess Mononoke", 1997, 134, ("animation", "adventure", "fantasy")),
    SeedFilm("Titanic", 1997, 195, ("drama", "romance")),
    SeedFilm("Saving Private Ryan", 1998, 169, ("drama", "war")),
    SeedFilm("The Big Lebowski", 1998, 117, ("comedy", "crime")),
    SeedFilm("Fight Club", 1999, 139, ("drama",)),
    SeedFilm("The Matrix", 1999, 136, ("action", "science_fiction")),
    SeedFilm("Gladiator", 2000, 155, ("action", "drama", "history")),
    SeedFilm("Memento", 2000, 113, ("mystery", "thriller")),
    SeedFilm("Amélie", 2001, 122, ("comedy", "romance")),
    SeedFilm("Spirited Away", 2001, 125, ("animation", "family", "fantasy")),
    SeedFilm(
        "The Lord of the Rings: The Fellowship of the Ring",
        2001,
        178,
        ("adventure", "fantasy"),
    ),
    SeedFilm("City of God", 2002, 130, ("crime", "drama")),
    SeedFilm("The Lord of the Rings: The Two Towers", 2002, 179, ("adventure", "fantasy")),
    SeedFilm(
        "The Lord of the Rings: The Return of the King",
        2003,
        201,
        ("adventure", "fantasy"),
    ),
    SeedFilm("Pan's Labyrinth", 2006, 118, ("drama", "fantasy", "war")),
    SeedFilm("No Country for Old Men", 2007, 122, ("crime", "thriller", "western")),
    SeedFilm("There Will Be Blood", 2007, 158, ("drama",)),
    SeedFilm("The Dark Knight", 2008, 152, ("action", "crime", "drama")),
    SeedFilm("WALL·E", 2008, 98, ("animation", "family", "science_fiction")),
    SeedFilm("Up", 2009, 96, ("adventure", "animation", "family")),
    SeedFilm("Inception", 2010, 148, ("action", "science_fiction", "thriller")),
    SeedFilm("The Social Network", 2010, 120, ("biography", "drama")),
    SeedFilm("Gravity", 2013, 91, ("science_fiction", "thriller")),
    SeedFilm("Interstellar", 2014, 169, ("adventure", "drama", "science_fiction")),
    SeedFilm("Whiplash", 2014, 107, ("drama", "music")),
    SeedFilm("Mad Max: Fury Road", 2015, 120, ("action", "adventure", "science_fiction")),
    SeedFilm("Arrival", 2016, 116, ("drama", "mystery", "science_fiction")),
    SeedFilm("La La Land", 2016, 128, ("drama", "musical", "romance")),
    SeedFilm("Moonlight", 2016, 111, ("drama",)),
    SeedFilm("Get Out", 2017, 104, ("horror", "mystery", "thriller")),
    SeedFilm("Parasite", 2019, 132, ("drama", "thriller")),
    SeedFilm("Dune", 2021, 155, ("adventure", "science_fiction")),
    SeedFilm(
        "Everything Everywhere All at Once",
        2022,
        139,
        ("action", "comedy", "science_fiction"),
    ),
    SeedFilm("Oppenheimer", 2023, 180, ("biography", "drama", "history")),
)


async def seed_catalogue(database: Database) -> int:
    """Insert the films that are missing; return how many were added."""
    now = datetime.now(UTC)
    async with database.write_session() as session:
        present = {
            (title, year) for title, year in await session.execute(select(Movie.title, Movie.year))
        }
        missing = [film for film in SEED_FILMS if (film.title, film.year) not in present]
        session.add_all(_movie(film, now) for film in missing)
    return len(missing)


def _movie(film: SeedFilm, now: datetime) -> Movie:
    return Movie(
        title=film.title,
        year=film.year,
        runtime_minutes=film.runtime_minutes,
        created_at=now,
        updated_at=now,
        genre_rows=genre_rows([Genre(name) for name in film.genres]),
    )
