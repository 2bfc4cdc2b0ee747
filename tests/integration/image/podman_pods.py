"""Running a :class:`PodPlan` with podman on the host's network, as the kubelet would run it.

The container's environment reaches podman through podman's own environment (``--env
NAME`` takes the value from there), so no secret is ever on a command line.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from chart_pods import PodPlan

from devstack.errors import HarnessError
from devstack.processes import ServiceProcess

PODMAN = shutil.which("podman") or "/usr/bin/podman"


@dataclass
class PodmanPod:
    """One container of the image, started from a plan; its log is the container's output."""

    plan: PodPlan
    image: str
    log_path: Path
    container: str = field(default_factory=lambda: f"reelmail-it-{uuid.uuid4().hex[:10]}")
    started_at: float = 0.0
    process: ServiceProcess | None = None

    def start(self) -> None:
        """``podman run`` in the foreground of a child process, which ends with the container."""
        command = [
            PODMAN, "run", "--rm", "--pull=never", "--network=host",
            f"--name={self.container}", f"--hostname={self.plan.name}",
            *self.plan.run_arguments(), self.image, *self.plan.args,
        ]  # fmt: skip
        self.process = ServiceProcess(self.plan.name, self.plan.env, self.log_path, command)
        self.started_at = time.monotonic()
        self.process.start()

    def wait_ready(self, timeout: float = 90.0) -> float:
        """Block until the readiness probe passes; the seconds since :meth:`start`."""
        assert self.plan.readiness is not None, f"{self.plan.name} has no readiness probe"
        path, port = self.plan.readiness
        self._running().wait_http_ok(f"http://127.0.0.1:{port}{path}", timeout=timeout)
        return time.monotonic() - self.started_at

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status once the container ends within ``timeout`` seconds, else None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._running().exit_code()
            if code is not None:
                return code
            time.sleep(0.05)
        return None

    def terminate(self) -> tuple[int | None, float]:
        """SIGTERM to the container's PID 1, as the kubelet sends it; (status, seconds to exit).

        The status is None when it was still running at the end of the plan's stop budget.
        """
        sent = time.monotonic()
        podman("kill", "--signal=SIGTERM", self.container)
        code = self.wait_exit(self.plan.stop_budget_seconds)
        return code, time.monotonic() - sent

    def exec(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run a command inside the running container, as its own user."""
        return subprocess.run(
            [PODMAN, "exec", self.container, *argv],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )

    def remove(self) -> None:
        """Force the container away, whatever state it is in (teardown)."""
        podman("rm", "--force", "--time=0", self.container, check=False)
        if self.process is not None:
            self.process.kill()

    def log_tail(self) -> str:
        """The end of what the container printed."""
        return "" if self.process is None else self.process.log_tail()

    def _running(self) -> ServiceProcess:
        if self.process is None:
            msg = f"{self.plan.name} was never started"
            raise HarnessError(msg)
        return self.process


def podman(*argv: str, check: bool = True) -> str:
    """Run one podman command; its standard output, or an error with what it said."""
    result = subprocess.run(
        [PODMAN, *argv], capture_output=True, text=True, check=False, timeout=120
    )
    if check and result.returncode != 0:
        msg = f"podman {' '.join(argv)} failed: {result.stderr.strip()}"
        raise HarnessError(msg)
    return result.stdout
