import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mailcontract import (
    Locale,
    OtpMail,
    PoisonMessageError,
    PoisonReason,
    Purpose,
    RecordPosition,
    decode_otp_mail,
    encode_otp_mail,
)

POSITION = RecordPosition("mail.otp.v1", 2, 41)


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


def test_v1_round_trip_keeps_every_field() -> None:
    issued = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    mail = OtpMail(
        id=str(uuid.uuid4()),
        email="bob@example.org",
        code="654321",
        purpose=Purpose.EMAIL_CHANGE,
        locale=Locale.EN,
        issued_at=issued,
        expires_at=issued + timedelta(minutes=10),
    )
    assert decode_otp_mail(encode_otp_mail(mail), POSITION) == mail


def test_v1_address_is_normalised_to_lower_case() -> None:
    mail = decode_otp_mail(_v1(), POSITION)
    assert mail.email == "alice@example.com"
    assert mail.purpose is Purpose.SIGNUP
    assert mail.locale is Locale.EN
    assert not mail.legacy


def test_legacy_message_gets_defaults_and_an_id_from_its_position() -> None:
    value = json.dumps({"email": "carol@example.net", "code": "777000"}).encode()
    first = decode_otp_mail(value, POSITION)
    again = decode_otp_mail(value, POSITION)
    elsewhere = decode_otp_mail(value, RecordPosition("mail.otp.v1", 2, 42))
    assert first.legacy
    assert first.expires_at is None
    assert first.locale is Locale.RU
    assert first.purpose is Purpose.LOGIN
    assert first.id == again.id != elsewhere.id


def test_repr_hides_the_code_and_the_address() -> None:
    mail = decode_otp_mail(_v1(), POSITION)
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
        (_v1(v=2), PoisonReason.BAD_VERSION),
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
        decode_otp_mail(value, POSITION)
    assert caught.value.reason is reason
