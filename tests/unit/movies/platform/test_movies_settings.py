import pytest
from sqlalchemy.engine import make_url

from envsettings import SettingsError
from movies.platform.settings import MaintenanceSettings, MoviesSettings, read_admin_emails

REQUIRED = {"OTP_HMAC_SECRET": "h" * 32, "JWT_SECRET": "j" * 32}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_jwt_secret_is_required_and_long(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("JWT_SECRET", "short")
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        MoviesSettings.from_env()
    environment.delenv("JWT_SECRET")
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        MoviesSettings.from_env()


def test_defaults_are_the_documented_ones(environment: pytest.MonkeyPatch) -> None:
    for name in ("ADMIN_EMAILS", "RATE_LIMIT_CODES_PER_ADDRESS", "OUTBOX_POLL_SECONDS"):
        environment.delenv(name, raising=False)
    settings = MoviesSettings.from_env()
    assert settings.otp_ttl_seconds == 600
    assert settings.otp_max_attempts == 5
    assert settings.rate_limits.codes_per_address == 5
    assert settings.rate_limits.window_seconds == 3600
    assert settings.tokens.ttl_seconds == 3600
    assert settings.outbox.poll_seconds == 5.0
    assert settings.max_request_body_bytes == 16_384
    assert settings.admin_emails == frozenset()
    assert settings.migrate_on_start is True


def test_secrets_and_addresses_stay_out_of_repr(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("ADMIN_EMAILS", "boss@example.com")
    environment.setenv("DATABASE_URL", "postgresql+asyncpg://u:dbpass@db/movies")
    text = repr(MoviesSettings.from_env())
    for secret in ("h" * 32, "j" * 32, "boss@example.com", "dbpass"):
        assert secret not in text


def test_admin_emails_are_normalised_and_typos_stop_the_start() -> None:
    assert read_admin_emails(" Boss@Example.com, ,ops@example.com ") == {
        "boss@example.com",
        "ops@example.com",
    }
    with pytest.raises(SettingsError, match="ADMIN_EMAILS"):
        read_admin_emails("boss@example.com, not-an-address")


def test_backoff_maximum_cannot_be_below_the_initial_delay(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("OUTBOX_BACKOFF_INITIAL_SECONDS", "5")
    environment.setenv("OUTBOX_BACKOFF_MAX_SECONDS", "1")
    with pytest.raises(SettingsError, match="OUTBOX_BACKOFF_MAX_SECONDS"):
        MoviesSettings.from_env()


def test_a_separate_database_password_goes_into_the_url_escaped(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("DATABASE_URL", "postgresql+asyncpg://reelmail@db.example.test:6432/movies")
    environment.setenv("DATABASE_PASSWORD", "p@ss/w:rd?#")
    for read in (MoviesSettings.from_env, MaintenanceSettings.from_env):
        url = make_url(read().database_url)
        assert url.password == "p@ss/w:rd?#"
        assert (url.host, url.port, url.database, url.username) == (
            "db.example.test",
            6432,
            "movies",
            "reelmail",
        )


def test_a_password_in_both_places_is_refused(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("DATABASE_URL", "postgresql+asyncpg://reelmail:one@db/movies")
    environment.setenv("DATABASE_PASSWORD", "two")
    with pytest.raises(SettingsError, match="DATABASE_PASSWORD"):
        MoviesSettings.from_env()
