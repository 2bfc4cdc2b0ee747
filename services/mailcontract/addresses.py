"""Validation of recipient addresses, shared so both sides accept exactly the same set.

``email_validator`` is the authority, but it costs 50 µs an address, which was a
seventh of the mailer's CPU per mail. Most addresses are plain ASCII dot-atoms at
plain host names, so those take a fast path that accepts only what the validator
accepts and returns what it would return (a property test holds the two together);
everything else, however slightly unusual, still goes to the validator.
"""

import re
from typing import Final

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

MAX_ADDRESS_LENGTH = 254
_FORBIDDEN: Final = re.compile(r"[\r\n\0\t]")
# Unquoted ASCII local part; host-name labels; a TLD of letters only. re.ASCII keeps
# IGNORECASE from matching the Kelvin sign and the long s as "k" and "s".
_PLAIN_ADDRESS: Final = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]+",
    re.ASCII | re.IGNORECASE,
)
_LOCAL_MAX: Final = 64
_DOMAIN_MAX: Final = 253
_LABEL_MAX: Final = 63
_SPECIAL_USE: Final = frozenset(SPECIAL_USE_DOMAIN_NAMES)


class InvalidAddressError(ValueError):
    """The address cannot be used as a mail recipient (or as a mail header value)."""


def normalize_address(raw: str) -> str:
    """Return the lower-cased ASCII form of a deliverable-looking address.

    The result is the only user-controlled value that ever reaches a mail header, so
    control characters, display names and addresses without an ASCII form are refused.
    Internationalised domains are returned in their ASCII (punycode) form, so
    ``a@bücher.de`` and ``a@xn--bcher-kva.de`` are one account and one header value.
    """
    if len(raw) > MAX_ADDRESS_LENGTH or _FORBIDDEN.search(raw):
        msg = "address is too long or holds control characters"
        raise InvalidAddressError(msg)
    plain = plain_address(raw)
    if plain is not None:
        return plain
    try:
        info = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddressError(str(exc)) from None
    if info.ascii_email is None:
        msg = "address has no ASCII form"
        raise InvalidAddressError(msg)
    return info.ascii_email.lower()


def plain_address(raw: str) -> str | None:
    """Answer for a plain address as the validator would, or None to ask the validator.

    None for anything outside the plain shape: quoted or non-ASCII parts, ``--`` in
    the domain (IDNA rules), over-long parts, special-use domains such as ``.local``.
    """
    if not _PLAIN_ADDRESS.fullmatch(raw):
        return None
    local, _, domain = raw.lower().rpartition("@")
    labels = domain.split(".")
    if (
        len(local) > _LOCAL_MAX
        or len(domain) > _DOMAIN_MAX
        or "--" in domain
        or labels[-1] in _SPECIAL_USE
        or any(len(label) > _LABEL_MAX for label in labels)
    ):
        return None
    return f"{local}@{domain}"
