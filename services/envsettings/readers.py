"""Readers for environment variables, each naming the variable in its error."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    """Raised at start-up when a variable is missing or malformed."""


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def read_str(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    """Return the variable's value, or the default when it is unset or empty."""
    value = _env(environ).get(name, "").strip()
    return value or default


def read_secret(name: str, *, min_length: int, environ: Mapping[str, str] | None = None) -> str:
    """Return a required secret; refuse to start without one that is long enough."""
    value = _env(environ).get(name, "")
    if len(value) < min_length:
        msg = f"{name} must be set to a secret of at least {min_length} characters"
        raise SettingsError(msg)
    return value


def read_int(
    name: str,
    default: int,
    *,
    minimum: int = 0,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Return an integer variable no smaller than ``minimum``."""
    raw = _env(environ).get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        msg = f"{name} must be an integer, got {raw!r}"
        raise SettingsError(msg) from None
    if value < minimum:
        msg = f"{name} must be at least {minimum}, got {value}"
        raise SettingsError(msg)
    return value


def read_float(
    name: str,
    default: float,
    *,
    minimum: float = 0.0,
    environ: Mapping[str, str] | None = None,
) -> float:
    """Return a number variable no smaller than ``minimum``."""
    raw = _env(environ).get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        msg = f"{name} must be a number, got {raw!r}"
        raise SettingsError(msg) from None
    if value < minimum:
        msg = f"{name} must be at least {minimum}, got {value}"
        raise SettingsError(msg)
    return value


def read_bool(name: str, *, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Return a boolean variable spelled 1/0, true/false, yes/no or on/off."""
    raw = _env(environ).get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    msg = f"{name} must be true or false, got {raw!r}"
    raise SettingsError(msg)


def read_choice(
    name: str,
    default: str,
    choices: frozenset[str],
    environ: Mapping[str, str] | None = None,
) -> str:
    """Return a variable that must be one of ``choices`` (compared lower-case)."""
    value = read_str(name, default, environ).lower()
    if value not in choices:
        allowed = ", ".join(sorted(choices))
        msg = f"{name} must be one of {allowed}, got {value!r}"
        raise SettingsError(msg)
    return value
