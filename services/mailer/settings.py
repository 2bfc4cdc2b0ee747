"""The mailer's configuration, read once from the environment and frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from envsettings import (
    KafkaConnection,
    SettingsError,
    read_bool,
    read_choice,
    read_float,
    read_int,
    read_str,
)
from mailcontract import DEFAULT_TOPIC, Keyring, dead_letter_topic
from telemetry.logs import LogSettings

SMTP_SECURITY = frozenset({"starttls", "tls", "plain"})
# Stock Postfix accepts at most 50 connections at once from one client
# (smtpd_client_connection_count_limit); at 20 ms and two round trips a mail, 50
# connections carry about 1,100 mails a second (B6 in docs/performance.md).
DEFAULT_POOL_SIZE = 50


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach and authenticate with the mail relay."""

    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    timeout_seconds: float
    from_address: str
    from_name: str
    pool_size: int
    idle_check_seconds: float
    pipelining: bool = True


@dataclass(frozen=True, slots=True)
class MailerSettings:
    """Everything the mailer needs to start; see the README's configuration table."""

    kafka: KafkaConnection
    topic: str
    dead_letter_topic: str
    group_id: str
    keyring: Keyring
    smtp: SmtpSettings
    retry_max_seconds: float
    retry_max_attempts: int
    max_inflight: int
    drain_seconds: float
    rebalance_drain_seconds: float
    dedup_ttl_seconds: float
    lag_interval_seconds: float
    http_host: str
    http_port: int
    logs: LogSettings

    @classmethod
    def from_env(cls) -> MailerSettings:
        """Read and validate every variable, failing at start-up with the variable's name."""
        topic = read_str("MAIL_TOPIC", DEFAULT_TOPIC)
        smtp = _smtp_from_env()
        return cls(
            kafka=KafkaConnection.from_env(),
            topic=topic,
            dead_letter_topic=read_str("MAILER_DLQ_TOPIC", dead_letter_topic(topic)),
            group_id=read_str("MAILER_GROUP_ID", "mailer"),
            keyring=Keyring.from_env(sealing=False),
            smtp=smtp,
            retry_max_seconds=read_float("MAILER_RETRY_MAX_SECONDS", 30.0, minimum=0.1),
            retry_max_attempts=read_int("MAILER_RETRY_MAX_ATTEMPTS", 12, minimum=1),
            # Twice the connections: every connection busy, and as many records again
            # decoding, waiting for a connection or backing off before a retry.
            max_inflight=read_int("MAILER_MAX_INFLIGHT", 2 * smtp.pool_size, minimum=1),
            drain_seconds=read_float("MAILER_DRAIN_SECONDS", 25.0, minimum=0.0),
            rebalance_drain_seconds=read_float("MAILER_REBALANCE_DRAIN_SECONDS", 5.0),
            dedup_ttl_seconds=read_float("MAILER_DEDUP_TTL_SECONDS", 3600.0),
            lag_interval_seconds=read_float("MAILER_LAG_INTERVAL_SECONDS", 5.0, minimum=0.1),
            http_host=read_str("MAILER_HOST", "127.0.0.1"),
            http_port=read_int("MAILER_PORT", 8001, minimum=0),
            logs=LogSettings.from_env(),
        )


def _smtp_from_env() -> SmtpSettings:
    security = read_choice("SMTP_SECURITY", "starttls", SMTP_SECURITY)
    default_port = {"starttls": 587, "tls": 465, "plain": 25}[security]
    username = read_str("SMTP_USERNAME", "")
    password = read_str("SMTP_PASSWORD", "")
    if bool(username) != bool(password):
        msg = "SMTP_USERNAME and SMTP_PASSWORD must be set together"
        raise SettingsError(msg)
    return SmtpSettings(
        host=read_str("SMTP_HOST", "127.0.0.1"),
        port=read_int("SMTP_PORT", default_port, minimum=1),
        security=security,
        username=username,
        password=password,
        timeout_seconds=read_float("SMTP_TIMEOUT_SECONDS", 10.0, minimum=0.1),
        from_address=_from_address(),
        from_name=read_str("MAIL_FROM_NAME", "Reelmail"),
        pool_size=read_int("SMTP_POOL_SIZE", DEFAULT_POOL_SIZE, minimum=1),
        idle_check_seconds=read_float("SMTP_IDLE_CHECK_SECONDS", 30.0),
        pipelining=read_bool("SMTP_PIPELINING", default=True),
    )


def _from_address() -> str:
    """Read the sender address; it goes into a header, so it must be plain ASCII."""
    value = read_str("MAIL_FROM_ADDRESS", "no-reply@reelmail.local")
    local, at, domain = value.partition("@")
    if not (local and at and domain) or not value.isascii() or any(c in value for c in " <>\r\n"):
        msg = f"MAIL_FROM_ADDRESS must be a bare ASCII address, got {value!r}"
        raise SettingsError(msg)
    return value


@lru_cache(maxsize=1)
def get_settings() -> MailerSettings:
    """Return the process-wide settings; the first call validates them."""
    return MailerSettings.from_env()
