"""Sign-in's tables: accounts, issued codes (hashed) and rate-limit counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from movies.platform.orm import Base, UtcDateTime


class User(Base):
    """An account, created by the first successful sign-in with an address."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_sign_in_at: Mapped[datetime] = mapped_column(UtcDateTime())


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


class RateLimitCounter(Base):
    """Hits of one subject (a hashed address or client) in one fixed window.

    Kept in the database so every replica counts against the same number.
    """

    __tablename__ = "rate_limit_counters"

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
