"""The one-time-code mail message: v1 schema, legacy form, and why a record is refused."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from mailcontract.addresses import InvalidAddressError, normalize_address

SCHEMA_VERSION: Final = 1
MAX_VALUE_BYTES: Final = 16 * 1024
_CODE_PATTERN: Final = re.compile(r"[0-9A-Za-z]{4,32}")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_LEGACY_KEYS: Final = frozenset({"email", "code"})
_E = TypeVar("_E", bound=StrEnum)


class Purpose(StrEnum):
    """Why the code was issued; it picks the wording of the mail."""

    LOGIN = "login"
    SIGNUP = "signup"
    EMAIL_CHANGE = "email_change"


class Locale(StrEnum):
    """The language of the mail; Russian is the original system's default."""

    RU = "ru"
    EN = "en"


class PoisonReason(StrEnum):
    """Why a record can never be delivered; carried in the dead letter's headers."""

    EMPTY = "empty"
    OVERSIZE = "oversize"
    NOT_JSON = "not_json"
    BAD_SCHEMA = "bad_schema"
    BAD_VERSION = "bad_version"
    CONTROL_CHARS = "control_chars"
    BAD_ADDRESS = "bad_address"
    BAD_CODE = "bad_code"


class PoisonMessageError(ValueError):
    """A record that no retry can fix: it goes to the dead-letter topic."""

    def __init__(self, reason: PoisonReason, detail: str) -> None:
        """Keep the machine-readable reason apart from the human-readable detail."""
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class RecordPosition:
    """Where a record sits in Kafka; legacy messages derive their id from it."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class OtpMail:
    """A request to mail one code to one address. ``repr`` never shows the secret parts."""

    id: str
    email: str = field(repr=False)
    code: str = field(repr=False)
    purpose: Purpose = Purpose.LOGIN
    locale: Locale = Locale.RU
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    legacy: bool = False


def encode_otp_mail(mail: OtpMail) -> bytes:
    """Serialise to the v1 wire format (UTF-8 JSON)."""
    body: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "id": mail.id,
        "email": mail.email,
        "code": mail.code,
        "purpose": mail.purpose.value,
        "locale": mail.locale.value,
        "issued_at": mail.issued_at.isoformat() if mail.issued_at else None,
        "expires_at": mail.expires_at.isoformat() if mail.expires_at else None,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_otp_mail(value: bytes | None, position: RecordPosition) -> OtpMail:
    """Parse a record value in v1 or legacy form, or say exactly why it is poison."""
    body = _parse_object(value)
    _refuse_control_characters(body)
    if "v" not in body and set(body) == _LEGACY_KEYS:
        return _legacy(body, position)
    if body.get("v") != SCHEMA_VERSION:
        raise PoisonMessageError(PoisonReason.BAD_VERSION, "unsupported schema version")
    return _v1(body)


def _parse_object(value: bytes | None) -> dict[str, Any]:
    if not value:
        raise PoisonMessageError(PoisonReason.EMPTY, "record has no value")
    if len(value) > MAX_VALUE_BYTES:
        raise PoisonMessageError(PoisonReason.OVERSIZE, f"value is {len(value)} bytes")
    try:
        body = json.loads(value)
    except (UnicodeDecodeError, ValueError):
        raise PoisonMessageError(PoisonReason.NOT_JSON, "value is not UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise PoisonMessageError(PoisonReason.BAD_SCHEMA, "value is not a JSON object")
    return body


def _refuse_control_characters(body: dict[str, Any]) -> None:
    for key, item in body.items():
        if isinstance(item, str) and _CONTROL.search(item):
            raise PoisonMessageError(PoisonReason.CONTROL_CHARS, f"field {key!r}")


def _legacy(body: dict[str, Any], position: RecordPosition) -> OtpMail:
    derived = uuid.uuid5(
        uuid.NAMESPACE_URL,
        f"kafka://{position.topic}/{position.partition}/{position.offset}",
    )
    return OtpMail(
        id=str(derived),
        email=_address(body),
        code=_code(body),
        legacy=True,
    )


def _v1(body: dict[str, Any]) -> OtpMail:
    return OtpMail(
        id=_uuid(body),
        email=_address(body),
        code=_code(body),
        purpose=_enum(Purpose, body, "purpose"),
        locale=_enum(Locale, body, "locale"),
        issued_at=_timestamp(body, "issued_at"),
        expires_at=_timestamp(body, "expires_at"),
    )


def _string(body: dict[str, Any], key: str) -> str:
    item = body.get(key)
    if not isinstance(item, str):
        raise PoisonMessageError(PoisonReason.BAD_SCHEMA, f"field {key!r} must be a string")
    return item


def _address(body: dict[str, Any]) -> str:
    try:
        return normalize_address(_string(body, "email"))
    except InvalidAddressError:
        raise PoisonMessageError(PoisonReason.BAD_ADDRESS, "invalid recipient") from None


def _code(body: dict[str, Any]) -> str:
    code = _string(body, "code")
    if not _CODE_PATTERN.fullmatch(code):
        raise PoisonMessageError(PoisonReason.BAD_CODE, "code must be 4-32 letters or digits")
    return code


def _uuid(body: dict[str, Any]) -> str:
    try:
        return str(uuid.UUID(_string(body, "id")))
    except ValueError:
        raise PoisonMessageError(PoisonReason.BAD_SCHEMA, "field 'id' is not a UUID") from None


def _enum(kind: type[_E], body: dict[str, Any], key: str) -> _E:
    try:
        return kind(_string(body, key))
    except ValueError:
        raise PoisonMessageError(PoisonReason.BAD_SCHEMA, f"unknown {key}") from None


def _timestamp(body: dict[str, Any], key: str) -> datetime | None:
    if body.get(key) is None:
        return None
    try:
        moment = datetime.fromisoformat(_string(body, key))
    except ValueError:
        raise PoisonMessageError(PoisonReason.BAD_SCHEMA, f"{key} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise PoisonMessageError(PoisonReason.BAD_SCHEMA, f"{key} has no time zone")
    return moment
