"""The local stack behind ``make run``: broker, SMTP sink, movies and mailer, no Docker.

Everything lives under ``.run/`` in the work tree (broker data, logs, the SQLite file,
the mail folder). SIGINT, SIGTERM or SIGHUP stops every part in reverse order, and so
does the death of the process that started the stack (``make``, which exits at once
on SIGINT or SIGTERM, see the Makefile); nothing is left running.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import structlog

from devstack.errors import HarnessError
from devstack.kafka_broker import KafkaBroker
from devstack.processes import ServiceProcess
from devstack.seal_keys import seal_settings
from devstack.smtp_sink import MailSink
from mailcontract import DEFAULT_TOPIC, dead_letter_topic, generate_key
from telemetry import configure_logging

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

log = structlog.get_logger(__name__)
TOPIC_PARTITIONS = 3
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The variable that sets each port, and its default: people type these ports.
PORT_VARIABLES = {"MOVIES_PORT": 8000, "SMTP_SINK_PORT": 2525, "MAILER_PORT": 8001}
_LOCK_WAIT_SECONDS = 60.0


class StopRequestedError(Exception):
    """A signal (or the parent's death) asked the stack to stop while it was starting."""


def _token() -> str:
    return secrets.token_urlsafe(48)


@dataclass(frozen=True, slots=True)
class StackLayout:
    """Where the stack keeps its state and which fixed ports people type."""

    root: Path
    movies_port: int
    smtp_port: int
    mailer_port: int

    @classmethod
    def from_environment(cls) -> StackLayout:
        """Read ``REELMAIL_RUN_DIR`` and the port variables (README, "local stack and tests")."""
        ports = {name: _port_setting(name, default) for name, default in PORT_VARIABLES.items()}
        return cls(
            root=Path(os.environ.get("REELMAIL_RUN_DIR", ".run")).resolve(),
            movies_port=ports["MOVIES_PORT"],
            smtp_port=ports["SMTP_SINK_PORT"],
            mailer_port=ports["MAILER_PORT"],
        )

    def ports(self) -> dict[str, int]:
        """Each port of the stack under the variable that sets it."""
        return {
            "MOVIES_PORT": self.movies_port,
            "SMTP_SINK_PORT": self.smtp_port,
            "MAILER_PORT": self.mailer_port,
        }

    @property
    def mail_dir(self) -> Path:
        """Folder of received mails, one ``.eml`` each."""
        return self.root / "mail"

    @property
    def logs(self) -> Path:
        """Folder of the services' log files."""
        return self.root / "logs"

    def hmac_secret(self) -> str:
        """Return a per-checkout secret, kept so codes stay valid across restarts of the stack."""
        return self._kept_secret("otp-hmac-secret")

    def jwt_secret(self) -> str:
        """Return the per-checkout token key, kept so sessions survive restarts of the stack."""
        return self._kept_secret("jwt-secret")

    def seal_settings(self) -> dict[str, str]:
        """Return the mail keyring, kept so sealed rows and records still open after a restart."""
        return seal_settings(self._kept_secret("mail-seal-key", generate_key))

    def _kept_secret(self, name: str, make: Callable[[], str] = _token) -> str:
        path = self.root / name
        if not path.exists():
            path.write_text(make())
            path.chmod(0o600)
        return path.read_text().strip()


def main() -> None:
    """Start everything, print where it is, wait for a stop signal, stop everything."""
    configure_logging("devstack", fmt=os.environ.get("LOG_FORMAT", "console"))
    try:
        layout = StackLayout.from_environment()
        layout.root.mkdir(parents=True, exist_ok=True)
        run_stack(layout, _stop_event())
    except HarnessError as exc:
        log.error("the local stack could not start", reason=str(exc))  # noqa: TRY400 -- the reason is the message; a traceback would bury it
        raise SystemExit(1) from None
    except StopRequestedError:
        log.info("the local stack stopped before it was up")


def _stop_event() -> threading.Event:
    """Return an event set by any stop signal, or once the process that started us is gone."""
    stop = threading.Event()
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: stop.set())
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True).start()
    return stop


def _watch_parent(parent: int, stop: threading.Event) -> None:
    """Set ``stop`` when we are re-parented: ``make`` (or whoever started us) has exited."""
    while not stop.wait(0.5):
        if os.getppid() != parent:
            log.info("the process that started the stack exited; stopping", parent=parent)
            stop.set()


def run_stack(layout: StackLayout, stop: threading.Event) -> None:
    """Bring the parts up in dependency order and keep them up until ``stop`` is set."""
    with ExitStack() as stack:
        stack.enter_context(_run_dir_lock(layout.root, stop))
        for variable, port in layout.ports().items():
            _require_free(port, variable)
        broker = KafkaBroker(layout.root / "kafka")
        stack.callback(broker.stop)
        broker.start()
        _raise_if_set(stop)
        broker.create_topics({DEFAULT_TOPIC: TOPIC_PARTITIONS, dead_letter_topic(DEFAULT_TOPIC): 1})
        sink = MailSink(layout.mail_dir, layout.smtp_port)
        stack.callback(sink.stop)
        sink.start()
        services = _start_services(layout, broker.bootstrap_servers, stack, stop)
        _print_summary(layout, broker)
        while not stop.wait(1.0):
            _fail_if_any_exited(services)
        log.info("stopping the local stack")
    log.info("the local stack stopped")


@contextmanager
def _run_dir_lock(root: Path, stop: threading.Event) -> Iterator[None]:
    """Hold ``<root>/stack.lock``: one stack per run directory.

    ``make`` returns as soon as it is interrupted, while the stack takes a few seconds
    more to stop; a ``make run`` typed straight away waits for that instead of failing
    on ports still in use.
    """
    with (root / "stack.lock").open("w") as lock:
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while not _try_lock(lock):
            if time.monotonic() > deadline:
                msg = f"another local stack is running on {root}; stop it or set REELMAIL_RUN_DIR"
                raise HarnessError(msg)
            log.info("waiting for the previous stack on this run directory to stop")
            if stop.wait(1.0):
                raise StopRequestedError
        yield


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _raise_if_set(stop: threading.Event) -> None:
    if stop.is_set():
        raise StopRequestedError


def _start_services(
    layout: StackLayout,
    bootstrap: str,
    stack: ExitStack,
    stop: threading.Event,
) -> list[ServiceProcess]:
    common = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "MAIL_TOPIC": DEFAULT_TOPIC,
        **layout.seal_settings(),
    }
    movies = ServiceProcess(
        "movies",
        {
            **common,
            "MOVIES_PORT": str(layout.movies_port),
            "DATABASE_URL": f"sqlite+aiosqlite:///{layout.root / 'movies.db'}",
            "OTP_HMAC_SECRET": layout.hmac_secret(),
            "JWT_SECRET": layout.jwt_secret(),
        },
        layout.logs / "movies.log",
    )
    _migrate_and_seed(movies)
    _raise_if_set(stop)
    mailer = ServiceProcess(
        "mailer",
        {
            **common,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(layout.smtp_port),
            "SMTP_SECURITY": "plain",
            "MAILER_PORT": str(layout.mailer_port),
        },
        layout.logs / "mailer.log",
    )
    for service in (movies, mailer):
        stack.callback(service.stop)
        service.start()
    movies.wait_http_ok(f"http://127.0.0.1:{layout.movies_port}/healthz", timeout=60)
    _raise_if_set(stop)
    mailer.wait_for_log("mailer consuming", timeout=60)
    _raise_if_set(stop)
    return [movies, mailer]


def _migrate_and_seed(movies: ServiceProcess) -> None:
    """``python -m movies seed``: apply the migrations, then load the seed catalogue."""
    result = subprocess.run(
        [sys.executable, "-m", "movies", "seed"],
        env=movies.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        msg = (
            f"movies seed failed (exit {result.returncode}); a database from before the "
            f"migrations needs `make clean`:\n{(result.stdout + result.stderr)[-2000:]}"
        )
        raise HarnessError(msg)


def _print_summary(layout: StackLayout, broker: KafkaBroker) -> None:
    api = f"http://127.0.0.1:{layout.movies_port}"
    lines = [
        "",
        "reelmail is running. Ctrl-C stops everything.",
        f"  movies API     {api}   (OpenAPI: {api}/schema)",
        f"  Kafka broker   {broker.bootstrap_servers}   topic {DEFAULT_TOPIC}",
        f"  mailer         http://127.0.0.1:{layout.mailer_port}/metrics (also /healthz, /readyz)",
        f"  SMTP sink      127.0.0.1:{layout.smtp_port}",
        f"  mail folder    {layout.mail_dir}   (one .eml per mail)",
        f"  logs           {layout.logs}/movies.log, mailer.log; broker: {broker.log_path}",
        "",
        "Try it:",
        (
            f"  curl -i -X POST {api}/auth/codes -H 'content-type: application/json' "
            """-d '{"email": "you@example.com"}'"""
        ),
        f"  ls {layout.mail_dir}",
        "",
    ]
    print("\n".join(lines), flush=True)  # noqa: T201 -- this summary is the command's output


def _fail_if_any_exited(services: list[ServiceProcess]) -> None:
    for service in services:
        code = service.exit_code()
        if code is not None:
            msg = f"{service.module} exited with {code}; see {service.log_path}"
            raise HarnessError(msg)


def _require_free(port: int, variable: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            msg = f"port {port} ({variable}) is already in use; set {variable} to a free port"
            raise HarnessError(msg)


def _port_setting(variable: str, default: int) -> int:
    raw = os.environ.get(variable, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:  # noqa: PLR2004 -- the TCP port range
        msg = f"{variable} must be a TCP port (1-65535), not {raw!r}"
        raise HarnessError(msg)
    return int(raw)
