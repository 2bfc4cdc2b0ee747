"""The watchlist's table: which account saved which movie, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from movies.platform.orm import Base, UtcDateTime


class WatchlistEntry(Base):
    """A movie a user wants to watch; gone with the user or the movie."""

    __tablename__ = "watchlist_entries"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    )
    movie_id: Mapped[int] = mapped_column(
        ForeignKey("movies.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())
