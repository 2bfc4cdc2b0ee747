import pytest

from envsettings import (
    KafkaConnection,
    SettingsError,
    read_bool,
    read_choice,
    read_int,
    read_secret,
)
from mailcontract import Keyring
from mailer.settings import MailerSettings
from movies.platform.settings import MoviesSettings


def test_readers_name_the_variable_in_errors() -> None:
    with pytest.raises(SettingsError, match="PORT must be an integer"):
        read_int("PORT", 1, environ={"PORT": "eighty"})
    with pytest.raises(SettingsError, match="FLAG must be true or false"):
        read_bool("FLAG", default=False, environ={"FLAG": "maybe"})
    with pytest.raises(SettingsError, match="MODE must be one of a, b"):
        read_choice("MODE", "a", frozenset({"a", "b"}), environ={"MODE": "c"})
    with pytest.raises(SettingsError, match="KEY must be set"):
        read_secret("KEY", min_length=32, environ={"KEY": "short"})


def test_movies_refuses_to_start_without_an_hmac_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTP_HMAC_SECRET", raising=False)
    with pytest.raises(SettingsError, match="OTP_HMAC_SECRET"):
        MoviesSettings.from_env()


def test_mailer_defaults_follow_the_security_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_SECURITY", "tls")
    monkeypatch.delenv("SMTP_PORT", raising=False)
    settings = MailerSettings.from_env()
    assert settings.smtp.port == 465
    assert settings.dead_letter_topic == "mail.otp.v1.dlq"


def test_the_in_flight_bound_follows_the_pool_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMTP_POOL_SIZE", "MAILER_MAX_INFLIGHT", "SMTP_PIPELINING"):
        monkeypatch.delenv(name, raising=False)
    defaults = MailerSettings.from_env()
    assert (defaults.smtp.pool_size, defaults.max_inflight) == (50, 100)
    assert defaults.smtp.pipelining
    monkeypatch.setenv("SMTP_POOL_SIZE", "8")
    assert MailerSettings.from_env().max_inflight == 16
    monkeypatch.setenv("MAILER_MAX_INFLIGHT", "5")
    monkeypatch.setenv("SMTP_PIPELINING", "off")
    settings = MailerSettings.from_env()
    assert (settings.smtp.pool_size, settings.max_inflight) == (8, 5)
    assert not settings.smtp.pipelining


def test_mailer_wants_user_and_password_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_USERNAME", "relay")
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    with pytest.raises(SettingsError, match="together"):
        MailerSettings.from_env()


def test_smtp_password_is_not_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_USERNAME", "relay")
    monkeypatch.setenv("SMTP_PASSWORD", "correct-horse-battery")
    assert "correct-horse" not in repr(MailerSettings.from_env())


def test_kafka_plaintext_by_default() -> None:
    connection = KafkaConnection.from_env(environ={"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})
    assert connection.client_options() == {
        "bootstrap_servers": "k:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_every_producer_waits_for_all_replicas_and_is_idempotent() -> None:
    connection = KafkaConnection.from_env(environ={"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})
    options = connection.producer_options("movies", request_timeout_ms=5000)
    assert options == {
        "bootstrap_servers": "k:9092",
        "security_protocol": "PLAINTEXT",
        "acks": "all",
        "enable_idempotence": True,
        "client_id": "movies",
        "request_timeout_ms": 5000,
    }
    with pytest.raises(ValueError, match="acks"):
        connection.producer_options("mailer", acks=1)


def test_kafka_sasl_ssl_options_and_password_hidden() -> None:
    environ = {
        "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
        "KAFKA_SASL_MECHANISM": "scram-sha-512",
        "KAFKA_SASL_USERNAME": "mailer",
        "KAFKA_SASL_PASSWORD": "s3cret-s3cret",
    }
    connection = KafkaConnection.from_env(environ=environ)
    options = connection.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "mailer"
    assert options["ssl_context"] is not None
    assert "s3cret" not in repr(connection)


def test_kafka_sasl_needs_credentials() -> None:
    with pytest.raises(SettingsError, match="KAFKA_SASL_USERNAME"):
        KafkaConnection.from_env(environ={"KAFKA_SECURITY_PROTOCOL": "sasl_plaintext"})


def test_both_services_refuse_to_start_without_a_mail_keyring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTP_HMAC_SECRET", "h" * 32)
    monkeypatch.setenv("JWT_SECRET", "j" * 32)
    monkeypatch.delenv("MAIL_SEAL_KEYS")
    for service in (MoviesSettings, MailerSettings):
        with pytest.raises(SettingsError, match=r"^MAIL_SEAL_KEYS must be set"):
            service.from_env()


@pytest.mark.parametrize(
    ("environment", "variable"),
    [
        ({"MAIL_SEAL_KEYS": "k1"}, "MAIL_SEAL_KEYS"),
        ({"MAIL_SEAL_KEYS": "k1:not-base64!"}, "MAIL_SEAL_KEYS"),
        ({"MAIL_SEAL_KEYS": "k1:" + "A" * 22}, "MAIL_SEAL_KEYS"),  # 16 bytes, not 32
        ({"MAIL_SEAL_KEYS": "bad id:" + "A" * 43}, "MAIL_SEAL_KEYS"),
        ({"MAIL_SEAL_KEYS": f"k1:{'A' * 43},k1:{'B' * 43}"}, "MAIL_SEAL_KEYS"),
        ({"MAIL_SEAL_KEYS": "k1:" + "A" * 43}, "MAIL_SEAL_ACTIVE_KEY"),
        (
            {"MAIL_SEAL_KEYS": "k1:" + "A" * 43, "MAIL_SEAL_ACTIVE_KEY": "k2"},
            "MAIL_SEAL_ACTIVE_KEY",
        ),
        (
            {
                "MAIL_SEAL_KEYS": "k1:" + "A" * 43,
                "MAIL_SEAL_ACTIVE_KEY": "k1",
                "MAIL_SEAL_RETIRED_KEYS": "k1",
            },
            "MAIL_SEAL_RETIRED_KEYS",
        ),
        (
            {
                "MAIL_SEAL_KEYS": "k1:" + "A" * 43,
                "MAIL_SEAL_ACTIVE_KEY": "k1",
                "MAIL_SEAL_RETIRED_KEYS": "k 0",
            },
            "MAIL_SEAL_RETIRED_KEYS",
        ),
    ],
)
def test_a_malformed_keyring_stops_the_start_naming_the_variable(
    environment: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{variable} ") as caught:
        Keyring.from_env(environment, sealing=True)
    assert "A" * 20 not in str(caught.value)  # the key itself is never echoed


def test_the_mailer_needs_no_active_key_but_checks_one_given() -> None:
    keys = {"MAIL_SEAL_KEYS": f"k1:{'A' * 43}=,k0:{'B' * 43}="}
    assert Keyring.from_env(keys, sealing=False).active is None
    with pytest.raises(SettingsError, match=r"^MAIL_SEAL_ACTIVE_KEY "):
        Keyring.from_env({**keys, "MAIL_SEAL_ACTIVE_KEY": "k9"}, sealing=False)


def test_the_keyring_never_shows_its_keys() -> None:
    key = "C" * 43
    keyring = Keyring.from_env({"MAIL_SEAL_KEYS": f"k1:{key}"}, sealing=False)
    assert key not in repr(keyring)
