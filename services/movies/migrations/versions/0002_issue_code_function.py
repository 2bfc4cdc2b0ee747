"""Issuing a code in one round trip on PostgreSQL: the ``issue_code`` function.

``issue_code`` counts the hit of both rate limits, stores the code's keyed hash and the
outbox row (its code sealed), and notifies the relays, all in the one statement that
calls it: one round trip, one implicit transaction, row locks held for that statement
only. A refused request counts nowhere: the hits are counted in a block whose error
handler undoes them, and the function returns the bucket that refused. The
notification is delivered on commit only, so a relay woken by it finds the row.
SQLite has no stored functions; it keeps the statements (``movies.auth.issuance``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNT_HIT = """
CREATE FUNCTION count_rate_limit_hit(
    hit_bucket text, hit_subject text, hit_window timestamptz, hit_limit integer
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    counted integer;
BEGIN
    INSERT INTO rate_limit_counters AS counter (bucket, subject, window_start, hits)
    VALUES (hit_bucket, hit_subject, hit_window, 1)
    ON CONFLICT (bucket, subject, window_start) DO UPDATE SET hits = counter.hits + 1
    RETURNING counter.hits INTO counted;
    IF counted > hit_limit THEN
        RAISE EXCEPTION USING ERRCODE = 'RM429', MESSAGE = hit_bucket;
    END IF;
END
$$
"""

_ISSUE_CODE = """
CREATE FUNCTION issue_code(
    client_bucket text, client_subject text, client_window timestamptz, client_limit integer,
    address_bucket text, address_subject text, address_window timestamptz, address_limit integer,
    code_id text, code_email text, code_purpose text, hashed_code text,
    issued_at timestamptz, expiry timestamptz,
    mail_topic text, mail_key bytea, mail_payload bytea, mail_headers json, mail_trace json
) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM count_rate_limit_hit(client_bucket, client_subject, client_window, client_limit);
        PERFORM count_rate_limit_hit(
            address_bucket, address_subject, address_window, address_limit
        );
    EXCEPTION WHEN SQLSTATE 'RM429' THEN
        RETURN SQLERRM;
    END;
    INSERT INTO otp_codes (id, email, purpose, code_hash, created_at, expires_at, attempts)
    VALUES (code_id, code_email, code_purpose, hashed_code, issued_at, expiry, 0);
    INSERT INTO outbox_messages (
        id, topic, message_key, payload, headers, trace_context, created_at, attempts
    )
    VALUES (code_id, mail_topic, mail_key, mail_payload, mail_headers, mail_trace, issued_at, 0);
    PERFORM pg_notify('movies_outbox', '');  -- the channel movies.outbox.wakeups listens on
    RETURN NULL;
END
$$
"""

_ISSUE_CODE_ARGUMENTS = (
    "text, text, timestamptz, integer, text, text, timestamptz, integer, "
    "text, text, text, text, timestamptz, timestamptz, text, bytea, bytea, json, json"
)


def upgrade() -> None:
    """Create the functions on PostgreSQL; SQLite has none to create."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_COUNT_HIT)
    op.execute(_ISSUE_CODE)


def downgrade() -> None:
    """Drop the functions, the caller first."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION issue_code({_ISSUE_CODE_ARGUMENTS})")
    op.execute("DROP FUNCTION count_rate_limit_hit(text, text, timestamptz, integer)")
