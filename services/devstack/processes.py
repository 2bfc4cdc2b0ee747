"""Starting the services as real OS processes, with their output kept in a log file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import IO, TYPE_CHECKING

from devstack.errors import HarnessError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path


class ServiceProcess:
    """One service (``python -m <module>``) whose stdout and stderr go to ``log_path``.

    ``command`` runs the service another way (in a container, say) with the same waits,
    logs and signals; ``module`` then only names it.
    """

    def __init__(
        self,
        module: str,
        env: Mapping[str, str],
        log_path: Path,
        command: Sequence[str] | None = None,
    ) -> None:
        """Describe the process; :meth:`start` launches it."""
        self.module = module
        self.command = list(command) if command else [sys.executable, "-m", module]
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The OS process id while it runs."""
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Launch with the same interpreter that runs the caller, or the given command."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 -- our own module or command, fixed argv
            self.command,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def exit_code(self) -> int | None:
        """None while running, else the exit status."""
        return None if self._process is None else self._process.poll()

    def wait_http_ok(self, url: str, timeout: float = 30.0) -> None:
        """Block until ``url`` answers 200, or fail with the end of the service's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._fail_if_exited()
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 -- loopback URL we built
                    if reply.status == 200:  # noqa: PLR2004 -- HTTP OK
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        msg = f"{self.module} did not answer {url} in {timeout}s:\n{self.log_tail()}"
        raise HarnessError(msg)

    def wait_for_log(self, needle: str, timeout: float = 30.0) -> None:
        """Block until the service logs a line containing ``needle``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text():
                return
            self._fail_if_exited()
            time.sleep(0.1)
        msg = f"{self.module} never logged {needle!r} in {timeout}s:\n{self.log_tail()}"
        raise HarnessError(msg)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; return the exit status."""
        return self._signal(signal.SIGTERM, timeout)

    def kill(self) -> int | None:
        """SIGKILL, as a crash would."""
        return self._signal(signal.SIGKILL, 10.0)

    def log_text(self) -> str:
        """Everything the service wrote so far."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        """Return the last lines of the service's output."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _fail_if_exited(self) -> None:
        code = self.exit_code()
        if code is not None:
            msg = f"{self.module} exited with {code}:\n{self.log_tail()}"
            raise HarnessError(msg)

    def _signal(self, signum: signal.Signals, timeout: float) -> int | None:
        process = self._process
        if process is None:
            return None
        process.send_signal(signum)
        status = reap(process, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        self._process = None
        return status


def reap(process: subprocess.Popen[bytes], timeout: float) -> int:
    """Wait up to ``timeout`` for a signalled process, SIGKILL it after that; return its status.

    ``send_signal`` before this is a no-op on a process that already exited, so callers
    signal first, then reap, whatever state the process is in.
    """
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(10)
