"""Typed reads of environment variables that fail fast with one clear sentence.

Both services build one frozen settings object at start-up from these helpers, so a
misconfigured deployment dies at boot naming the variable, not later mid-request.
See docs/architecture.md for where this fits.
"""

from envsettings.kafka_connection import KafkaConnection
from envsettings.readers import (
    SettingsError,
    read_bool,
    read_choice,
    read_float,
    read_int,
    read_secret,
    read_str,
)

__all__ = [
    "KafkaConnection",
    "SettingsError",
    "read_bool",
    "read_choice",
    "read_float",
    "read_int",
    "read_secret",
    "read_str",
]
