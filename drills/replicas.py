"""Service replicas a drill can kill, stop and start again, each start with a log of its own.

A restarted replica writes a new log file, so waiting for its start-up line never
matches the line its previous incarnation wrote.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.processes import ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Mapping

STOP_TIMEOUT_SECONDS = 40.0
"""Longer than the mailer's 25 s drain, so a graceful stop is never cut short by SIGKILL."""
TEARDOWN_TIMEOUT_SECONDS = 15.0
"""At teardown nothing is in flight any more; a replica that hangs is not worth waiting for."""
START_TIMEOUT_SECONDS = 90.0


@dataclass
class Replica:
    """One ``python -m <module>`` process, restartable; ``port`` is its HTTP port."""

    name: str
    module: str
    env: dict[str, str]
    port: int
    logdir: Path
    starts: int = 0
    process: ServiceProcess | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        """The OS process id while it runs."""
        return None if self.process is None else self.process.pid

    @property
    def running(self) -> bool:
        """Whether the current incarnation is alive."""
        return self.process is not None and self.process.exit_code() is None

    def launch(self, env_changes: Mapping[str, str] | None = None) -> ServiceProcess:
        """Start a new incarnation, optionally with changed settings."""
        self.env.update(env_changes or {})
        self.starts += 1
        log_path = self.logdir / f"{self.name}-{self.starts}.log"
        self.process = ServiceProcess(self.module, self.env, log_path)
        self.process.start()
        return self.process

    async def kill(self) -> None:
        """SIGKILL, as a crash, an OOM kill or a lost node would."""
        if self.process is not None:
            await asyncio.to_thread(self.process.kill)

    async def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:  # noqa: ASYNC109 -- the deadline is the SIGKILL's, not a cancellation
        """SIGTERM and wait, SIGKILL after ``timeout``; return the exit status."""
        if self.process is None:
            return None
        return await asyncio.to_thread(self.process.stop, timeout)


class MoviesReplica(Replica):
    """A movies API process; ready when ``/healthz`` answers."""

    @property
    def url(self) -> str:
        """Base URL of its API."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self, env_changes: Mapping[str, str] | None = None) -> None:
        """Launch and wait until it serves."""
        process = self.launch(env_changes)
        await asyncio.to_thread(process.wait_http_ok, f"{self.url}/healthz", START_TIMEOUT_SECONDS)


class MailerReplica(Replica):
    """A mailer process; ready once its consumer has been assigned partitions."""

    @property
    def metrics_url(self) -> str:
        """Its side server's Prometheus endpoint."""
        return f"http://127.0.0.1:{self.port}/metrics"

    async def start(self, env_changes: Mapping[str, str] | None = None) -> None:
        """Launch and wait until it joined the group and got partitions."""
        process = self.launch(env_changes)
        await asyncio.to_thread(process.wait_for_log, "partitions assigned", START_TIMEOUT_SECONDS)
