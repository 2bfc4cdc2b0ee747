"""Initial schema: catalogue, accounts, watchlists, one-time codes, outbox, rate limits.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("sent_at IS NULL")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create every table of the first release."""
    _catalogue()
    _accounts()
    _sign_in()


def _catalogue() -> None:
    op.create_table(
        "movies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("runtime_minutes", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movies")),
        sa.UniqueConstraint("title", "year", name="uq_movies_title_year"),
    )
    op.create_index(op.f("ix_movies_title"), "movies", ["title"])
    op.create_index(op.f("ix_movies_year"), "movies", ["year"])
    op.create_table(
        "movie_genres",
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("genre", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["movies.id"],
            name=op.f("fk_movie_genres_movie_id_movies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("movie_id", "genre", name=op.f("pk_movie_genres")),
    )
    op.create_index("ix_movie_genres_genre", "movie_genres", ["genre", "movie_id"])


def _accounts() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_sign_in_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "watchlist_entries",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        _timestamp("added_at"),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["movies.id"],
            name=op.f("fk_watchlist_entries_movie_id_movies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_watchlist_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "movie_id", name=op.f("pk_watchlist_entries")),
    )
    op.create_index(op.f("ix_watchlist_entries_movie_id"), "watchlist_entries", ["movie_id"])


def _sign_in() -> None:
    op.create_table(
        "otp_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("consumed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otp_codes")),
    )
    op.create_index(op.f("ix_otp_codes_email"), "otp_codes", ["email"])
    op.create_index("ix_otp_codes_email_created_at", "otp_codes", ["email", "created_at"])
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=249), nullable=False),
        sa.Column("message_key", sa.LargeBinary(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("trace_context", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(
        "ix_outbox_messages_pending",
        "outbox_messages",
        ["created_at"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
    op.create_index("ix_outbox_messages_sent_at", "outbox_messages", ["sent_at"])
    op.create_table(
        "rate_limit_counters",
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        _timestamp("window_start"),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "bucket",
            "subject",
            "window_start",
            name=op.f("pk_rate_limit_counters"),
        ),
    )


def downgrade() -> None:
    """Drop everything the upgrade created, dependants first."""
    for table in (
        "rate_limit_counters",
        "outbox_messages",
        "otp_codes",
        "watchlist_entries",
        "users",
        "movie_genres",
        "movies",
    ):
        op.drop_table(table)
