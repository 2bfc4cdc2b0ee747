"""The outbox's table: Kafka records waiting to be published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from movies.platform.orm import Base, UtcDateTime


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
