"""How hard and how long the drills push: one frozen object, scaled down inside the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SmtpCredentials:
    """AUTH credentials the sink demands and the mailers present (audited for leaks)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TelemetryCapture:
    """Extra evidence kept for the secrets audit: where spans go, every metrics scrape."""

    otlp_endpoint: str
    smtp: SmtpCredentials


@dataclass(frozen=True, slots=True)
class DrillSettings:
    """Traffic, fault timings and service limits of one suite run.

    The defaults are those of ``make drills``; tests pass smaller ones
    (``dataclasses.replace``). Fault timings are seconds after the traffic starts.
    """

    workdir: Path
    rate_per_second: float = 50.0
    duration_seconds: float = 60.0
    fault_at_seconds: float = 20.0
    broker_outage_seconds: float = 10.0
    single_replica_seconds: float = 20.0
    smtp_outage_seconds: float = 30.0
    postgres_outage_seconds: float = 10.0
    slow_smtp_reply_seconds: float = 2.0
    slow_smtp_window_seconds: float = 20.0
    movies_restart_after_seconds: float = 5.0
    settle_timeout_seconds: float = 300.0
    quiet_seconds: float = 5.0
    sample_interval_seconds: float = 0.5
    partitions: int = 4
    max_inflight: int = 64
    smtp_pool_size: int = 4
    telemetry: TelemetryCapture | None = None

    @property
    def total_requests(self) -> int:
        """How many sign-in requests the traffic driver sends in one drill."""
        return max(1, round(self.rate_per_second * self.duration_seconds))
