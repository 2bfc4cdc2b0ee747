"""The catalogue's tables: movies and their genres."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from movies.platform.orm import Base, UtcDateTime


class Movie(Base):
    """One film of the catalogue; (title, year) identifies it for people and for the seed."""

    __tablename__ = "movies"
    __table_args__ = (UniqueConstraint("title", "year", name="uq_movies_title_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    runtime_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    genre_rows: Mapped[list[MovieGenre]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="MovieGenre.genre",
        passive_deletes=True,
    )

    @property
    def genres(self) -> list[str]:
        """The genre names, sorted, as the API shows them."""
        return [row.genre for row in self.genre_rows]


class MovieGenre(Base):
    """A genre of a movie; a table rather than a list column, so filtering is an index lookup."""

    __tablename__ = "movie_genres"
    __table_args__ = (Index("ix_movie_genres_genre", "genre", "movie_id"),)

    movie_id: Mapped[int] = mapped_column(
        ForeignKey("movies.id", ondelete="CASCADE"),
        primary_key=True,
    )
    genre: Mapped[str] = mapped_column(String(32), primary_key=True)
