"""Each user's watchlist: idempotent adds and removals, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from movies.catalogue.models import Movie
from movies.catalogue.service import MovieNotFoundError, to_payload
from movies.platform.database import Database, upsert
from movies.watchlist.models import WatchlistEntry
from movies.watchlist.payloads import Watchlist, WatchlistItem

MAX_WATCHLIST_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class WatchlistStore:
    """Watchlists over the service's database."""

    database: Database

    async def items(self, user_id: str) -> Watchlist:
        """List the user's movies, most recently added first."""
        statement = (
            select(WatchlistEntry.added_at, Movie)
            .join(Movie, Movie.id == WatchlistEntry.movie_id)
            .where(WatchlistEntry.user_id == user_id)
            .order_by(WatchlistEntry.added_at.desc(), Movie.id)
            .limit(MAX_WATCHLIST_ITEMS)
        )
        async with self.database.reads() as session:
            rows = (await session.execute(statement)).all()
        items = [WatchlistItem(movie=to_payload(movie), added_at=added) for added, movie in rows]
        return Watchlist(items=items)

    async def add(self, user_id: str, movie_id: int) -> None:
        """Put a movie on the list; adding it twice changes nothing."""
        statement = (
            upsert(self.database.engine.dialect.name, WatchlistEntry)
            .values(user_id=user_id, movie_id=movie_id, added_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["user_id", "movie_id"])
        )
        try:
            async with self.database.write_session() as session:
                if await session.get(Movie, movie_id) is None:
                    raise MovieNotFoundError(movie_id)
                await session.execute(statement)
        except IntegrityError:
            raise MovieNotFoundError(movie_id) from None

    async def remove(self, user_id: str, movie_id: int) -> None:
        """Take a movie off the list; removing an absent one changes nothing."""
        async with self.database.write_session() as session:
            await session.execute(
                delete(WatchlistEntry).where(
                    WatchlistEntry.user_id == user_id,
                    WatchlistEntry.movie_id == movie_id,
                ),
            )
