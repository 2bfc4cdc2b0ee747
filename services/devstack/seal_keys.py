"""A fresh mail keyring for a local stack or a test harness: one key, active in both services."""

from __future__ import annotations

from mailcontract import Keyring, generate_key
from mailcontract.sealing import ACTIVE_VARIABLE, KEYS_VARIABLE

DEV_KEY_ID = "dev1"


def seal_settings(key: str | None = None, key_id: str = DEV_KEY_ID) -> dict[str, str]:
    """Return the ``MAIL_SEAL_*`` variables for movies and the mailer alike: one key, active.

    Without ``key``, a new random one: every stack gets a key of its own, so no key is
    ever committed or shared by accident.
    """
    return {KEYS_VARIABLE: f"{key_id}:{key or generate_key()}", ACTIVE_VARIABLE: key_id}


def keyring_of(env: dict[str, str]) -> Keyring:
    """Return the keyring a stack started with these variables seals and opens with."""
    return Keyring.from_env(env, sealing=True)
