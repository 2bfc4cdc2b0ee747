"""Database tables of the movie service. Alembic migrations in ``movies/migrations`` create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; SQLite would otherwise hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive values, store UTC (naive on SQLite, which has no time zones)."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given to a UTC column"
            raise ValueError(msg)
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, _dialect: Dialect) -> datetime | None:  # noqa: ANN401 -- SQLAlchemy's hook signature
        """Return aware UTC values whatever the backend stored."""
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base shared by every table, with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


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


class User(Base):
    """An account, created by the first successful sign-in with an address."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_sign_in_at: Mapped[datetime] = mapped_column(UtcDateTime())


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


class OtpCode(Base):
    """An issued one-time code: only its keyed hash is stored, never the code."""

    __tablename__ = "otp_codes"
    __table_args__ = (Index("ix_otp_codes_email_created_at", "email", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class OutboxMessage(Base):
    """A Kafka record waiting to be published, written in the same transaction as its cause.

    ``payload`` holds the encoded message, its code sealed (``mailcontract.sealing``), only
    until the broker has it; the relay clears it when it marks the row sent, and prunes
    the row later.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index(
            "ix_outbox_messages_pending",
            "created_at",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
        Index("ix_outbox_messages_sent_at", "sent_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    topic: Mapped[str] = mapped_column(String(249))
    message_key: Mapped[bytes] = mapped_column(LargeBinary)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    trace_context: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class RateLimitCounter(Base):
    """Hits of one subject (a hashed address or client) in one fixed window.

    Kept in the database so every replica counts against the same number.
    """

    __tablename__ = "rate_limit_counters"

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
