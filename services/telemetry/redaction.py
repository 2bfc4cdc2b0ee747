"""Keeping secrets and personal data out of logs, spans and metric labels."""

import re
from collections.abc import MutableMapping
from typing import Any, Final

REDACTED: Final = "[redacted]"
SECRET_KEYS: Final = frozenset(
    {"code", "otp", "password", "secret", "token", "jwt", "authorization", "cookie"},
)
ADDRESS_KEYS: Final = frozenset({"email", "recipient", "address", "to"})
_EMBEDDED_ADDRESS: Final = re.compile(r"([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")


def mask_address(address: str) -> str:
    """Keep the first character of the local part and the domain: enough to debug, not to mail."""
    local, sep, domain = address.rpartition("@")
    if not sep or not local:
        return REDACTED
    return f"{local[0]}***@{domain}"


def recipient_domain(address: str) -> str:
    """Return only the domain: the one part of an address safe for span attributes."""
    return address.rpartition("@")[2] or REDACTED


def redact_event(
    _logger: object,
    _method: str,
    event_dict: MutableMapping[str, Any],
) -> MutableMapping[str, Any]:
    """Structlog processor: drop secret-named fields and mask address-named ones."""
    for key in event_dict.keys() & SECRET_KEYS:
        event_dict[key] = REDACTED
    for key in event_dict.keys() & ADDRESS_KEYS:
        value = event_dict[key]
        event_dict[key] = mask_address(value) if isinstance(value, str) else REDACTED
    for key, value in event_dict.items():
        if isinstance(value, str) and "@" in value:
            event_dict[key] = mask_embedded_addresses(value)
    return event_dict


def mask_embedded_addresses(text: str) -> str:
    """Mask addresses inside free text, such as a relay's refusal quoted in an error."""
    return _EMBEDDED_ADDRESS.sub(r"\1***@\2", text)
