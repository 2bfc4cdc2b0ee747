"""Telemetry bootstrap shared by both services: JSON logs, traces and metrics.

Everything that leaves a process as telemetry passes through here, which is where
secrets are kept out of it: codes and tokens are dropped, addresses are masked.
See docs/architecture.md for where this fits.
"""

from telemetry.logs import configure_logging
from telemetry.redaction import mask_address, recipient_domain

__all__ = ["configure_logging", "mask_address", "recipient_domain"]
