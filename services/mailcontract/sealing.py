"""Sealing the one-time code inside a mail request: AES-256-GCM under a named, rotatable key.

Movies seals the code when it builds the outbox row; the mailer opens it right before
rendering the mail. In between (the outbox row, the database's WAL and backups, the
Kafka topic, a broker's disk, the dead-letter topic) only the sealed form exists. The
associated data binds the seal to the rest of its message (id, recipient, expiry...), so
a sealed code moved into another message, or a message whose recipient was changed,
fails to open instead of mailing someone else's code.

Both services read one keyring (see the README's configuration tables):

- ``MAIL_SEAL_KEYS``: ``id:key`` pairs separated by commas, each key 32 random bytes in
  base64 (standard or URL-safe alphabet, padding optional). Required by both.
- ``MAIL_SEAL_ACTIVE_KEY``: the id movies seals with; must be in ``MAIL_SEAL_KEYS``.
  Required by movies, checked by the mailer when set.
- ``MAIL_SEAL_RETIRED_KEYS``: ids of keys taken out of use; a record sealed under one
  is dead-lettered as ``retired_key`` rather than ``unknown_key``, so an operator can
  tell "expected after a rotation" from "a key is missing from this pod's keyring".
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from envsettings import SettingsError, read_str
from mailcontract.otp_message import PoisonMessageError, PoisonReason

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
KEYS_VARIABLE: Final = "MAIL_SEAL_KEYS"
ACTIVE_VARIABLE: Final = "MAIL_SEAL_ACTIVE_KEY"
RETIRED_VARIABLE: Final = "MAIL_SEAL_RETIRED_KEYS"
KEY_ID: Final = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_TAG_BYTES: Final = 16


def generate_key() -> str:
    """Return a fresh key in the form ``MAIL_SEAL_KEYS`` takes (URL-safe base64, 32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class Keyring:
    """The keys this process can open with, and the one it seals with (if it seals)."""

    ciphers: Mapping[str, AESGCM] = field(repr=False)
    active: str | None
    retired: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, sealing: bool) -> Keyring:
        """Read the keyring; refuse to start, naming the variable, on anything malformed.

        ``sealing`` (movies) makes ``MAIL_SEAL_ACTIVE_KEY`` required.
        """
        keys = _parse_keys(read_str(KEYS_VARIABLE, "", environ))
        retired = _parse_ids(RETIRED_VARIABLE, read_str(RETIRED_VARIABLE, "", environ))
        if retired & keys.keys():
            msg = f"{RETIRED_VARIABLE} names a key that {KEYS_VARIABLE} still holds"
            raise SettingsError(msg)
        active = read_str(ACTIVE_VARIABLE, "", environ) or None
        if active is None and sealing:
            msg = f"{ACTIVE_VARIABLE} must name the key of {KEYS_VARIABLE} to seal codes with"
            raise SettingsError(msg)
        if active is not None and active not in keys:
            msg = f"{ACTIVE_VARIABLE} must be one of the key ids in {KEYS_VARIABLE}"
            raise SettingsError(msg)
        ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        return cls(ciphers=ciphers, active=active, retired=retired)

    def seal(self, code: str, context: bytes) -> tuple[str, str]:
        """Return ``(key id, sealed code)``: a fresh nonce, then ciphertext and tag, base64url."""
        if self.active is None:
            msg = "this keyring has no active key to seal with"
            raise RuntimeError(msg)
        nonce = secrets.token_bytes(NONCE_BYTES)
        box = nonce + self.ciphers[self.active].encrypt(nonce, code.encode(), context)
        return self.active, base64.urlsafe_b64encode(box).decode().rstrip("=")

    def open(self, key_id: str, sealed: str, context: bytes) -> str:
        """Return the code, or raise the dead-letter reason: key unknown or retired, seal broken."""
        cipher = self.ciphers.get(key_id)
        if cipher is None:
            reason = (
                PoisonReason.RETIRED_KEY if key_id in self.retired else PoisonReason.UNKNOWN_KEY
            )
            raise PoisonMessageError(reason, "the code is sealed under a key this keyring lacks")
        box = _decode_base64(sealed)
        if box is None or len(box) <= NONCE_BYTES + _TAG_BYTES:
            raise PoisonMessageError(PoisonReason.BROKEN_SEAL, "sealed code is malformed")
        try:
            plain = cipher.decrypt(box[:NONCE_BYTES], box[NONCE_BYTES:], context)
        except InvalidTag:
            raise PoisonMessageError(
                PoisonReason.BROKEN_SEAL, "the seal does not match its message"
            ) from None
        return plain.decode("ascii", errors="replace")


def _parse_keys(raw: str) -> dict[str, bytes]:
    if not raw:
        msg = f"{KEYS_VARIABLE} must be set to id:key pairs (32-byte keys in base64)"
        raise SettingsError(msg)
    keys: dict[str, bytes] = {}
    for entry in raw.split(","):
        key_id, _, encoded = entry.strip().partition(":")
        key = _decode_base64(encoded.strip())
        if not KEY_ID.fullmatch(key_id) or key is None or len(key) != KEY_BYTES or key_id in keys:
            msg = (
                f"{KEYS_VARIABLE} must be comma-separated id:key pairs with distinct ids "
                f"(letters, digits, '._-') and {KEY_BYTES}-byte keys in base64"
            )
            raise SettingsError(msg)
        keys[key_id] = key
    return keys


def _parse_ids(name: str, raw: str) -> frozenset[str]:
    ids = frozenset(item.strip() for item in raw.split(",") if item.strip())
    if any(not KEY_ID.fullmatch(key_id) for key_id in ids):
        msg = f"{name} must be comma-separated key ids (letters, digits, '._-')"
        raise SettingsError(msg)
    return ids


def _decode_base64(text: str) -> bytes | None:
    """Decode standard or URL-safe base64, padding optional; None if it is not base64."""
    normalized = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(normalized + "=" * (-len(normalized) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
