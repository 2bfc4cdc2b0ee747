"""The movie service's configuration, read once from the environment and frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy.engine import make_url

from envsettings import (
    KafkaConnection,
    SettingsError,
    read_bool,
    read_float,
    read_int,
    read_secret,
    read_str,
)
from mailcontract import DEFAULT_TOPIC, InvalidAddressError, Keyring, normalize_address
from movies.platform.database import DEFAULT_POOL_SIZE
from telemetry.logs import LogSettings

SECRET_MIN_LENGTH = 32


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """How many sign-in requests one address or one client may make per window."""

    window_seconds: int
    codes_per_address: int
    codes_per_client: int
    sessions_per_client: int


@dataclass(frozen=True, slots=True)
class OutboxSettings:
    """How the relay moves queued mail requests from the database to Kafka."""

    poll_seconds: float
    batch_size: int
    publish_timeout_seconds: float
    backoff_initial_seconds: float
    backoff_max_seconds: float
    retention_seconds: int
    shutdown_timeout_seconds: float
    listen: bool = True
    """On PostgreSQL, LISTEN for other replicas' commits (off behind a proxy that pools
    transactions, where LISTEN does not work; the poll then carries their rows)."""


@dataclass(frozen=True, slots=True)
class TokenSettings:
    """The signed session tokens handed out after a successful sign-in."""

    secret: str = field(repr=False)
    ttl_seconds: int
    audience: str
    issuer: str


@dataclass(frozen=True, slots=True)
class MoviesSettings:
    """Everything the service needs to start; see the README's configuration table."""

    host: str
    port: int
    database_url: str = field(repr=False)
    database_timeout_seconds: float
    database_pool_size: int
    migrate_on_start: bool
    kafka: KafkaConnection
    mail_topic: str
    mail_keyring: Keyring
    otp_hmac_secret: str = field(repr=False)
    otp_ttl_seconds: int
    otp_max_attempts: int
    kafka_request_timeout_ms: int
    tokens: TokenSettings
    admin_emails: frozenset[str] = field(repr=False)
    rate_limits: RateLimitSettings
    outbox: OutboxSettings
    max_request_body_bytes: int
    logs: LogSettings
    access_log: bool

    @classmethod
    def from_env(cls) -> MoviesSettings:
        """Read and validate every variable, failing at start-up with the variable's name."""
        return cls(
            host=read_str("MOVIES_HOST", "127.0.0.1"),
            port=read_int("MOVIES_PORT", 8000, minimum=1),
            database_url=database_url_from_env(),
            database_timeout_seconds=read_float("DATABASE_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            database_pool_size=read_int("DATABASE_POOL_SIZE", DEFAULT_POOL_SIZE, minimum=2),
            migrate_on_start=read_bool("DATABASE_MIGRATE_ON_START", default=True),
            kafka=KafkaConnection.from_env(),
            mail_topic=read_str("MAIL_TOPIC", DEFAULT_TOPIC),
            mail_keyring=Keyring.from_env(sealing=True),
            otp_hmac_secret=read_secret("OTP_HMAC_SECRET", min_length=SECRET_MIN_LENGTH),
            otp_ttl_seconds=read_int("OTP_TTL_SECONDS", 600, minimum=30),
            otp_max_attempts=read_int("OTP_MAX_ATTEMPTS", 5, minimum=1),
            kafka_request_timeout_ms=read_int("KAFKA_REQUEST_TIMEOUT_MS", 10_000, minimum=100),
            tokens=_tokens_from_env(),
            admin_emails=read_admin_emails(read_str("ADMIN_EMAILS", "")),
            rate_limits=_rate_limits_from_env(),
            outbox=_outbox_from_env(),
            max_request_body_bytes=read_int("MAX_REQUEST_BODY_BYTES", 16_384, minimum=1024),
            logs=LogSettings.from_env(),
            access_log=read_bool("MOVIES_ACCESS_LOG", default=True),
        )


def database_url_from_env() -> str:
    """Read ``DATABASE_URL``, with ``DATABASE_PASSWORD`` put into it when given.

    A password kept apart can come from its own Secret (a chart built from host, port and
    user), and any character in it is escaped here rather than by whoever writes the URL.
    """
    url = read_str("DATABASE_URL", "sqlite+aiosqlite:///./reelmail-movies.db")
    password = read_str("DATABASE_PASSWORD", "")
    if not password:
        return url
    parsed = make_url(url)
    if parsed.password:
        msg = "DATABASE_URL has a password and DATABASE_PASSWORD is set: give it in one place"
        raise SettingsError(msg)
    return parsed.set(password=password).render_as_string(hide_password=False)


def read_admin_emails(raw: str) -> frozenset[str]:
    """Parse ``ADMIN_EMAILS``; a typo in an admin address must stop the start, not lock them out."""
    addresses = set()
    for item in raw.split(","):
        if not item.strip():
            continue
        try:
            addresses.add(normalize_address(item.strip()))
        except InvalidAddressError:
            msg = "ADMIN_EMAILS must be a comma-separated list of e-mail addresses"
            raise SettingsError(msg) from None
    return frozenset(addresses)


def _tokens_from_env() -> TokenSettings:
    return TokenSettings(
        secret=read_secret("JWT_SECRET", min_length=SECRET_MIN_LENGTH),
        ttl_seconds=read_int("JWT_TTL_SECONDS", 3600, minimum=60),
        audience=read_str("JWT_AUDIENCE", "reelmail"),
        issuer=read_str("JWT_ISSUER", "reelmail-movies"),
    )


def _rate_limits_from_env() -> RateLimitSettings:
    return RateLimitSettings(
        window_seconds=read_int("RATE_LIMIT_WINDOW_SECONDS", 3600, minimum=1),
        codes_per_address=read_int("RATE_LIMIT_CODES_PER_ADDRESS", 5, minimum=1),
        codes_per_client=read_int("RATE_LIMIT_CODES_PER_CLIENT", 30, minimum=1),
        sessions_per_client=read_int("RATE_LIMIT_SESSIONS_PER_CLIENT", 60, minimum=1),
    )


def _outbox_from_env() -> OutboxSettings:
    initial = read_float("OUTBOX_BACKOFF_INITIAL_SECONDS", 0.5, minimum=0.01)
    return OutboxSettings(
        poll_seconds=read_float("OUTBOX_POLL_SECONDS", 5.0, minimum=0.05),
        batch_size=read_int("OUTBOX_BATCH_SIZE", 100, minimum=1),
        publish_timeout_seconds=read_float("OUTBOX_PUBLISH_TIMEOUT_SECONDS", 15.0, minimum=0.1),
        backoff_initial_seconds=initial,
        backoff_max_seconds=read_float("OUTBOX_BACKOFF_MAX_SECONDS", 30.0, minimum=initial),
        retention_seconds=read_int("OUTBOX_RETENTION_SECONDS", 86_400, minimum=0),
        shutdown_timeout_seconds=read_float("OUTBOX_SHUTDOWN_TIMEOUT_SECONDS", 10.0, minimum=0.1),
        listen=read_bool("OUTBOX_LISTEN", default=True),
    )


@dataclass(frozen=True, slots=True)
class MaintenanceSettings:
    """What ``migrate`` and ``seed`` need: no secrets, so the Helm hook can run before them."""

    database_url: str
    database_timeout_seconds: float
    logs: LogSettings

    @classmethod
    def from_env(cls) -> MaintenanceSettings:
        """Read only the database and logging variables."""
        return cls(
            database_url=database_url_from_env(),
            database_timeout_seconds=read_float("DATABASE_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            logs=LogSettings.from_env(),
        )


@lru_cache(maxsize=1)
def get_settings() -> MoviesSettings:
    """Return the process-wide settings; the first call validates them."""
    return MoviesSettings.from_env()
