import base64
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devstack.seal_keys import keyring_of, seal_settings
from mailcontract import (
    Keyring,
    Locale,
    OtpMail,
    PoisonMessageError,
    PoisonReason,
    Purpose,
    RecordPosition,
    decode_otp_mail,
    encode_otp_mail,
    generate_key,
)

POSITION = RecordPosition("mail.otp.v1", 2, 41)
SETTINGS = seal_settings(key_id="k1")
KEYRING = keyring_of(SETTINGS)
ISSUED = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _v1(**overrides: object) -> bytes:
    body = {
        "v": 1,
        "id": "6f1c1d7e-2f00-4a8e-9d54-0c3a4f1b2a11",
        "email": "Alice@Example.com",
        "code": "123456",
        "purpose": "signup",
        "locale": "en",
        "issued_at": "2026-11-29T10:00:00+00:00",
        "expires_at": "2026-11-29T10:10:00+00:00",
    }
    body.update(overrides)
    return json.dumps(body).encode()


def _mail(code: str = "654321") -> OtpMail:
    return OtpMail(
        id=str(uuid.uuid4()),
        email="bob@example.org",
        code=code,
        purpose=Purpose.EMAIL_CHANGE,
        locale=Locale.EN,
        issued_at=ISSUED,
        expires_at=ISSUED + timedelta(minutes=10),
    )


def _sealed(**overrides: object) -> bytes:
    body = json.loads(encode_otp_mail(_mail(), KEYRING))
    body.update(overrides)
    return json.dumps(body).encode()


def test_v2_round_trip_keeps_every_field_and_opens_the_code() -> None:
    mail = _mail()
    assert decode_otp_mail(encode_otp_mail(mail, KEYRING), POSITION, KEYRING) == replace(
        mail, sealed=True
    )


def test_the_wire_form_holds_the_code_only_sealed() -> None:
    value = encode_otp_mail(_mail("654321"), KEYRING)
    body = json.loads(value)
    assert b"654321" not in value
    assert "code" not in body
    assert body["v"] == 2
    assert body["kid"] == "k1"
    assert encode_otp_mail(_mail("654321"), KEYRING) != value  # a fresh nonce every time


def test_the_mailer_opens_with_the_keys_alone() -> None:
    mailer = Keyring.from_env({"MAIL_SEAL_KEYS": SETTINGS["MAIL_SEAL_KEYS"]}, sealing=False)
    assert decode_otp_mail(encode_otp_mail(_mail(), KEYRING), POSITION, mailer).code == "654321"


def test_a_rotated_keyring_still_opens_what_the_old_key_sealed() -> None:
    old = SETTINGS["MAIL_SEAL_KEYS"]
    rotated = Keyring.from_env(
        {"MAIL_SEAL_KEYS": f"k2:{generate_key()},{old}", "MAIL_SEAL_ACTIVE_KEY": "k2"},
        sealing=True,
    )
    assert decode_otp_mail(encode_otp_mail(_mail(), KEYRING), POSITION, rotated).sealed
    assert json.loads(encode_otp_mail(_mail(), rotated))["kid"] == "k2"


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        ({"MAIL_SEAL_KEYS": f"k2:{generate_key()}"}, PoisonReason.UNKNOWN_KEY),
        (
            {"MAIL_SEAL_KEYS": f"k2:{generate_key()}", "MAIL_SEAL_RETIRED_KEYS": "k0,k1"},
            PoisonReason.RETIRED_KEY,
        ),
        ({"MAIL_SEAL_KEYS": f"k1:{generate_key()}"}, PoisonReason.BROKEN_SEAL),
    ],
)
def test_a_seal_the_keyring_cannot_open_is_poison(
    environment: dict[str, str], reason: PoisonReason
) -> None:
    keyring = Keyring.from_env(environment, sealing=False)
    with pytest.raises(PoisonMessageError) as caught:
        decode_otp_mail(encode_otp_mail(_mail(), KEYRING), POSITION, keyring)
    assert caught.value.reason is reason


@pytest.mark.parametrize(
    "change",
    [
        {"id": str(uuid.uuid4())},
        {"email": "mallory@example.org"},
        {"expires_at": "2026-11-30T10:10:00+00:00"},
        {"issued_at": "2026-11-29T10:00:01+00:00"},
        {"purpose": "login"},
        {"locale": "ru"},
    ],
)
def test_a_seal_moved_to_another_message_does_not_open(change: dict[str, str]) -> None:
    with pytest.raises(PoisonMessageError) as caught:
        decode_otp_mail(_sealed(**change), POSITION, KEYRING)
    assert caught.value.reason is PoisonReason.BROKEN_SEAL


def test_a_flipped_bit_in_the_seal_breaks_it() -> None:
    body = json.loads(encode_otp_mail(_mail(), KEYRING))
    box = bytearray(base64.urlsafe_b64decode(body["sealed_code"] + "=="))
    box[-1] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(box)).decode().rstrip("=")
    for sealed in (tampered, "not base64!", "AAAA"):
        with pytest.raises(PoisonMessageError) as caught:
            decode_otp_mail(_sealed(sealed_code=sealed), POSITION, KEYRING)
        assert caught.value.reason is PoisonReason.BROKEN_SEAL


@pytest.mark.parametrize("missing", ["kid", "sealed_code", "id", "email", "expires_at"])
def test_a_v2_message_without_one_of_its_fields_is_bad_schema(missing: str) -> None:
    body = json.loads(encode_otp_mail(_mail(), KEYRING))
    del body[missing]
    with pytest.raises(PoisonMessageError) as caught:
        decode_otp_mail(json.dumps(body).encode(), POSITION, KEYRING)
    assert caught.value.reason is PoisonReason.BAD_SCHEMA


def test_v1_in_clear_is_still_delivered_and_counted_as_clear() -> None:
    mail = decode_otp_mail(_v1(), POSITION, KEYRING)
    assert (mail.code, mail.sealed, mail.legacy) == ("123456", False, False)


def test_v1_address_is_normalised_to_lower_case() -> None:
    mail = decode_otp_mail(_v1(), POSITION, KEYRING)
    assert mail.email == "alice@example.com"
    assert mail.purpose is Purpose.SIGNUP
    assert mail.locale is Locale.EN
    assert not mail.legacy


def test_legacy_message_gets_defaults_and_an_id_from_its_position() -> None:
    value = json.dumps({"email": "carol@example.net", "code": "777000"}).encode()
    first = decode_otp_mail(value, POSITION, KEYRING)
    again = decode_otp_mail(value, POSITION, KEYRING)
    elsewhere = decode_otp_mail(value, RecordPosition("mail.otp.v1", 2, 42), KEYRING)
    assert first.legacy
    assert first.expires_at is None
    assert first.locale is Locale.RU
    assert first.purpose is Purpose.LOGIN
    assert first.id == again.id != elsewhere.id


def test_repr_hides_the_code_and_the_address() -> None:
    mail = decode_otp_mail(_v1(), POSITION, KEYRING)
    assert "123456" not in repr(mail)
    assert "alice" not in repr(mail).lower()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", PoisonReason.EMPTY),
        (None, PoisonReason.EMPTY),
        (b"not json", PoisonReason.NOT_JSON),
        (b"\xff\xfe", PoisonReason.NOT_JSON),
        (b"[1, 2]", PoisonReason.BAD_SCHEMA),
        (b'{"email": "a@example.com"}', PoisonReason.BAD_VERSION),
        (_v1(v=3), PoisonReason.BAD_VERSION),
        (_v1(email="alice@example.com\r\nBcc: x@evil.test"), PoisonReason.CONTROL_CHARS),
        (_v1(code="12\n34"), PoisonReason.CONTROL_CHARS),
        (_v1(email="not-an-address"), PoisonReason.BAD_ADDRESS),
        (_v1(code="<b>1</b>"), PoisonReason.BAD_CODE),
        (_v1(code=123456), PoisonReason.BAD_SCHEMA),
        (_v1(id="nope"), PoisonReason.BAD_SCHEMA),
        (_v1(purpose="reset"), PoisonReason.BAD_SCHEMA),
        (_v1(locale="de"), PoisonReason.BAD_SCHEMA),
        (_v1(expires_at="tomorrow"), PoisonReason.BAD_SCHEMA),
        (_v1(expires_at="2026-11-29T10:10:00"), PoisonReason.BAD_SCHEMA),
        (_v1(padding="x" * 20_000), PoisonReason.OVERSIZE),
    ],
)
def test_poison_records_name_their_reason(value: bytes | None, reason: PoisonReason) -> None:
    with pytest.raises(PoisonMessageError) as caught:
        decode_otp_mail(value, POSITION, KEYRING)
    assert caught.value.reason is reason
