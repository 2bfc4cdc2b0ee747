"""One-time codes: generation with ``secrets`` and keyed hashing, so the DB never holds a code."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_DIGITS = 6


def generate_code() -> str:
    """Return a uniformly random 6-digit code from the OS CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(secret: str, email: str, purpose: str, code: str) -> str:
    """HMAC-SHA256 of the code bound to its address and purpose.

    Binding the address and purpose means a leaked hash cannot be replayed for another
    account or flow, and without the server secret a 6-digit space cannot be brute-forced
    offline.
    """
    message = f"{email}\x00{purpose}\x00{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def code_matches(secret: str, email: str, purpose: str, code: str, stored_hash: str) -> bool:
    """Constant-time comparison of a submitted code with the stored hash."""
    return hmac.compare_digest(hash_code(secret, email, purpose, code), stored_hash)
