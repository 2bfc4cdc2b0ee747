"""The local stack behind ``make run``: broker, SMTP sink, movies and mailer, no Docker.

Everything lives under ``.run/`` in the work tree (broker data, logs, the SQLite file,
the mail folder). Ctrl-C stops every part in reverse order; nothing is left running.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import structlog

from devstack.errors import HarnessError
from devstack.kafka_broker import KafkaBroker
from devstack.processes import ServiceProcess
from devstack.smtp_sink import MailSink
from mailcontract import DEFAULT_TOPIC, dead_letter_topic
from telemetry import configure_logging

log = structlog.get_logger(__name__)
TOPIC_PARTITIONS = 3
MAILER_PORT = 8001


@dataclass(frozen=True, slots=True)
class StackLayout:
    """Where the stack keeps its state and which fixed ports people type."""

    root: Path
    movies_port: int
    smtp_port: int

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

    def _kept_secret(self, name: str) -> str:
        path = self.root / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def main() -> None:
    """Start everything, print where it is, wait for Ctrl-C, stop everything."""
    configure_logging("devstack", fmt=os.environ.get("LOG_FORMAT", "console"))
    layout = StackLayout(
        root=Path(os.environ.get("REELMAIL_RUN_DIR", ".run")).resolve(),
        movies_port=int(os.environ.get("MOVIES_PORT", "8000")),
        smtp_port=int(os.environ.get("SMTP_SINK_PORT", "2525")),
    )
    layout.root.mkdir(parents=True, exist_ok=True)
    try:
        run_stack(layout)
    except HarnessError as exc:
        log.error("the local stack could not start", reason=str(exc))  # noqa: TRY400 -- the reason is the message; a traceback would bury it
        raise SystemExit(1) from None


def run_stack(layout: StackLayout) -> None:
    """Bring the parts up in dependency order and keep them up until interrupted."""
    for port in (layout.movies_port, layout.smtp_port, MAILER_PORT):
        _require_free(port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with ExitStack() as stack:
        broker = KafkaBroker(layout.root / "kafka")
        stack.callback(broker.stop)
        broker.start()
        broker.create_topics({DEFAULT_TOPIC: TOPIC_PARTITIONS, dead_letter_topic(DEFAULT_TOPIC): 1})
        sink = MailSink(layout.mail_dir, layout.smtp_port)
        stack.callback(sink.stop)
        sink.start()
        services = _start_services(layout, broker.bootstrap_servers, stack)
        _print_summary(layout, broker)
        while not stop.wait(1.0):
            _fail_if_any_exited(services)
        log.info("stopping the local stack")


def _start_services(
    layout: StackLayout,
    bootstrap: str,
    stack: ExitStack,
) -> list[ServiceProcess]:
    common = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "MAIL_TOPIC": DEFAULT_TOPIC}
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
    mailer = ServiceProcess(
        "mailer",
        {
            **common,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(layout.smtp_port),
            "SMTP_SECURITY": "plain",
            "MAILER_PORT": str(MAILER_PORT),
        },
        layout.logs / "mailer.log",
    )
    for service in (movies, mailer):
        stack.callback(service.stop)
        service.start()
    movies.wait_http_ok(f"http://127.0.0.1:{layout.movies_port}/healthz", timeout=60)
    mailer.wait_for_log("mailer consuming", timeout=60)
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
        f"  mailer         http://127.0.0.1:{MAILER_PORT}/metrics (also /healthz, /readyz)",
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


def _require_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            msg = f"port {port} is already in use; set MOVIES_PORT or SMTP_SINK_PORT to another"
            raise HarnessError(msg)
