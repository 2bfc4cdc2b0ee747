"""The SMTP servers the mailer benchmarks send to: Postfix's ``smtp-sink``, and stunnel.

``smtp-sink`` throws mails away as fast as C allows, so the client is what gets measured.
Run with ``-c`` it prints a running counter after every accepted message; a reader thread
stamps the wall-clock moment the count reaches the target. ``stunnel`` in front of it
terminates implicit TLS with a self-signed certificate the clients trust through
``SSL_CERT_FILE``. Both listen on loopback ports and run as any user.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from typing import IO, TYPE_CHECKING, Final

from devstack.errors import HarnessError
from devstack.ports import free_port

if TYPE_CHECKING:
    from pathlib import Path

INSTALL_HINT: Final = "run scripts/install-bench-tools.sh (Debian: postfix, stunnel4)"
_COUNTER: Final = re.compile(rb"mesg=(\d+)")
_BACKLOG: Final = "1024"


def _require(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
        if found:
            return found
    msg = f"{names[0]} is not installed: {INSTALL_HINT}"
    raise HarnessError(msg)


def start_logged(argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a helper program with its output in ``log_path``, for when it refuses to start."""
    with log_path.open("ab") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 -- argv built by the harness


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Block until something accepts on ``port``; fail at once if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"{process.args!r} exited with {process.returncode}"
            raise HarnessError(msg)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.05)
    msg = f"nothing listens on 127.0.0.1:{port} after {timeout}s"
    raise HarnessError(msg)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM a helper program, SIGKILL it if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class CountingSink:
    """One ``smtp-sink -c`` on a free loopback port, counting accepted mails."""

    def __init__(self, options: tuple[str, ...] = ()) -> None:
        """Choose the port; :meth:`start` launches the sink with ``options`` (e.g. ``-p``)."""
        self.options = options
        self.port = free_port()
        self.accepted = 0
        self._target = 0
        self.reached_at: float | None = None
        self._reached = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, target: int) -> None:
        """Listen, and note when ``target`` mails have been accepted."""
        self._target = target
        # As root, smtp-sink insists on dropping privileges after binding the socket.
        drop = ["-u", "nobody"] if os.geteuid() == 0 else []
        self._process = subprocess.Popen(  # noqa: S603 -- fixed argv
            [_require("smtp-sink"), "-c", *drop, *self.options, f"127.0.0.1:{self.port}", _BACKLOG],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        stdout = self._process.stdout
        if stdout is None:
            msg = "smtp-sink has no stdout pipe"
            raise HarnessError(msg)
        threading.Thread(target=self._read_counter, args=(stdout,), daemon=True).start()
        wait_for_port(self.port, self._process)

    def wait(self, timeout: float) -> float:
        """Block until the target count; return the wall-clock time it was reached."""
        if not self._reached.wait(timeout) or self.reached_at is None:
            msg = f"smtp-sink accepted {self.accepted} of {self._target} mails in {timeout:.0f}s"
            raise HarnessError(msg)
        return self.reached_at

    def stop(self) -> None:
        """Stop the sink."""
        stop_process(self._process)
        self._process = None

    def _read_counter(self, stdout: IO[bytes]) -> None:
        """Each update ends in CR; the last ``mesg=`` of a chunk is the newest count."""
        while chunk := os.read(stdout.fileno(), 65536):
            found = _COUNTER.findall(chunk)
            if not found:
                continue
            now = time.time()
            with self._lock:
                self.accepted = int(found[-1])
                if self.accepted >= self._target > 0 and self.reached_at is None:
                    self.reached_at = now
                    self._reached.set()


class TlsTunnel:
    """stunnel accepting implicit TLS on a loopback port, forwarding plain SMTP to a sink."""

    def __init__(self, workdir: Path, certificate: SelfSignedCertificate) -> None:
        """Prepare the configuration; :meth:`start` launches stunnel."""
        self.workdir = workdir
        self.certificate = certificate
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, backend_port: int) -> None:
        """Terminate TLS on :attr:`port` and forward to ``backend_port``."""
        config = self.workdir / f"stunnel-{self.port}.conf"
        config.write_text(
            "foreground = yes\npid =\nsyslog = no\ndebug = 3\n"
            f"[smtps]\naccept = 127.0.0.1:{self.port}\nconnect = 127.0.0.1:{backend_port}\n"
            f"cert = {self.certificate.cert}\nkey = {self.certificate.key}\n"
        )
        self._process = subprocess.Popen(  # noqa: S603 -- fixed argv
            [_require("stunnel4", "stunnel"), str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self._process)

    def stop(self) -> None:
        """Stop stunnel."""
        stop_process(self._process)
        self._process = None


class SelfSignedCertificate:
    """An ECDSA P-256 certificate for 127.0.0.1 that is its own CA (``SSL_CERT_FILE``)."""

    def __init__(self, workdir: Path) -> None:
        """Create the key and certificate in ``workdir`` with the openssl CLI."""
        self.cert = workdir / "smtp-cert.pem"
        self.key = workdir / "smtp-key.pem"
        result = subprocess.run(  # noqa: S603 -- fixed argv
            [
                _require("openssl"),
                *("req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
                *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
                *("-addext", "subjectAltName=IP:127.0.0.1"),
                *("-addext", "basicConstraints=critical,CA:TRUE"),
                *("-keyout", str(self.key), "-out", str(self.cert)),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            msg = f"openssl could not make the test certificate:\n{result.stderr}"
            raise HarnessError(msg)
