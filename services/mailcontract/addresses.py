"""Validation of recipient addresses, shared so both sides accept exactly the same set."""

from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS_LENGTH = 254
_FORBIDDEN = frozenset("\r\n\0\t")


class InvalidAddressError(ValueError):
    """The address cannot be used as a mail recipient (or as a mail header value)."""


def normalize_address(raw: str) -> str:
    """Return the lower-cased ASCII form of a deliverable-looking address.

    The result is the only user-controlled value that ever reaches a mail header, so
    control characters, display names and addresses without an ASCII form are refused.
    """
    if len(raw) > MAX_ADDRESS_LENGTH or any(ch in _FORBIDDEN for ch in raw):
        msg = "address is too long or holds control characters"
        raise InvalidAddressError(msg)
    try:
        info = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddressError(str(exc)) from None
    return info.normalized.lower()
