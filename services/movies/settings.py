"""The movie service's configuration, read once from the environment and frozen."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from envsettings import read_choice, read_int, read_secret, read_str
from mailcontract import DEFAULT_TOPIC

LOG_FORMATS = frozenset({"json", "console"})


@dataclass(frozen=True, slots=True)
class MoviesSettings:
    """Everything the service needs to start; see the README's configuration table."""

    host: str
    port: int
    database_url: str
    kafka_bootstrap_servers: str
    mail_topic: str
    otp_hmac_secret: str
    otp_ttl_seconds: int
    kafka_request_timeout_ms: int
    log_level: str
    log_format: str

    @classmethod
    def from_env(cls) -> MoviesSettings:
        """Read and validate every variable, failing at start-up with the variable's name."""
        return cls(
            host=read_str("MOVIES_HOST", "127.0.0.1"),
            port=read_int("MOVIES_PORT", 8000, minimum=1),
            database_url=read_str("DATABASE_URL", "sqlite+aiosqlite:///./reelmail-movies.db"),
            kafka_bootstrap_servers=read_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            mail_topic=read_str("MAIL_TOPIC", DEFAULT_TOPIC),
            otp_hmac_secret=read_secret("OTP_HMAC_SECRET", min_length=32),
            otp_ttl_seconds=read_int("OTP_TTL_SECONDS", 600, minimum=30),
            kafka_request_timeout_ms=read_int("KAFKA_REQUEST_TIMEOUT_MS", 10_000, minimum=100),
            log_level=read_choice(
                "LOG_LEVEL",
                "info",
                frozenset({"debug", "info", "warning", "error"}),
            ),
            log_format=read_choice("LOG_FORMAT", "json", LOG_FORMATS),
        )


@lru_cache(maxsize=1)
def get_settings() -> MoviesSettings:
    """Return the process-wide settings; the first call validates them."""
    return MoviesSettings.from_env()
