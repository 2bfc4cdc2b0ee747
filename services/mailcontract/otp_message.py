"""The one-time-code mail message: v2 (sealed), v1 and legacy (clear), and why a record is refused.

Movies writes v2 only: the v1 fields with the code replaced by ``kid`` (the key id) and
``sealed_code`` (see :mod:`mailcontract.sealing`). The mailer still reads v1 and the
legacy bare ``{"email", "code"}``, which carry the code in clear by definition: they are
what producers older than the seal write, during a rolling upgrade (consumer first, see
docs/architecture.md) and in dead letters replayed from before it.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, TypeVar

from mailcontract.addresses import InvalidAddressError, normalize_address

if TYPE_CHECKING:  # sealing raises this module's errors, so it cannot be imported here
    from mailcontract.sealing import Keyring

SCHEMA_VERSION: Final = 2
CLEAR_VERSION: Final = 1
_SEALED_FIELDS: Final = ("id", "email", "purpose", "locale", "issued_at", "expires_at", "kid")
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
    UNKNOWN_KEY = "unknown_key"
    RETIRED_KEY = "retired_key"
    BROKEN_SEAL = "broken_seal"


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
    """A request to mail one code to one address. ``repr`` never shows the secret parts.

    ``sealed`` says the code arrived sealed (v2); False for the clear v1 and legacy forms.
    """

    id: str
    email: str = field(repr=False)
    code: str = field(repr=False)
    purpose: Purpose = Purpose.LOGIN
    locale: Locale = Locale.RU
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    legacy: bool = False
    sealed: bool = False


def encode_otp_mail(mail: OtpMail, keyring: Keyring) -> bytes:
    """Serialise to the v2 wire format (UTF-8 JSON), the code sealed under the active key.

    The code never reaches the JSON in clear: this is the only encoder of the contract.
    """
    if mail.issued_at is None or mail.expires_at is None:
        msg = "a sealed mail request needs its issue and expiry times"
        raise ValueError(msg)
    body: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "id": mail.id,
        "email": mail.email,
        "purpose": mail.purpose.value,
        "locale": mail.locale.value,
        "issued_at": mail.issued_at.isoformat(),
        "expires_at": mail.expires_at.isoformat(),
        "kid": keyring.active,
    }
    body["kid"], body["sealed_code"] = keyring.seal(mail.code, seal_context(body))
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def seal_context(body: dict[str, Any]) -> bytes:
    """Build the seal's associated data: every other field of the message, exactly as sent.

    Changing the id, the recipient, the expiry (or any other field) of a sealed message
    breaks its seal; the mailer dead-letters it instead of mailing the code elsewhere.
    """
    values = [f"reelmail.otp.v{SCHEMA_VERSION}", *(body.get(key) for key in _SEALED_FIELDS)]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()


def decode_otp_mail(value: bytes | None, position: RecordPosition, keyring: Keyring) -> OtpMail:
    """Parse a record value in v2, v1 or legacy form, or say exactly why it is poison."""
    body = _parse_object(value)
    _refuse_control_characters(body)
    if "v" not in body and set(body) == _LEGACY_KEYS:
        return _legacy(body, position)
    if body.get("v") == SCHEMA_VERSION:
        return _v2(body, keyring)
    if body.get("v") == CLEAR_VERSION:
        return _v1(body)
    raise PoisonMessageError(PoisonReason.BAD_VERSION, "unsupported schema version")


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
    return _mail(body, _code(body), sealed=False)


def _v2(body: dict[str, Any], keyring: Keyring) -> OtpMail:
    for key in _SEALED_FIELDS:
        _string(body, key)  # the seal covers these exact strings: all must be there
    code = keyring.open(body["kid"], _string(body, "sealed_code"), seal_context(body))
    return _mail(body, _checked_code(code), sealed=True)


def _mail(body: dict[str, Any], code: str, *, sealed: bool) -> OtpMail:
    """Validate the fields v1 and v2 share, around a code already checked."""
    return OtpMail(
        id=_uuid(body),
        email=_address(body),
        code=code,
        purpose=_enum(Purpose, body, "purpose"),
        locale=_enum(Locale, body, "locale"),
        issued_at=_timestamp(body, "issued_at"),
        expires_at=_timestamp(body, "expires_at"),
        sealed=sealed,
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
    return _checked_code(_string(body, "code"))


def _checked_code(code: str) -> str:
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
