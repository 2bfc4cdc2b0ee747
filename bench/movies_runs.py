"""B2, B3 and the other half of B4: movies' ``POST /auth/codes`` under open-loop load.

B2 runs the real movies service (or the original-style yardstick) on SQLite or
PostgreSQL and drives it with :mod:`bench.load_generator` in a process of its own.
B3 adds a real mailer and an SMTP sink that stamps each mail's arrival, and measures
from each request's due time to its mail's arrival.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from bench.load_generator import Load, LoadResult
from bench.prefill import SEAL_SETTINGS
from devstack.errors import HarnessError
from devstack.otlp_receiver import OtlpReceiver
from devstack.ports import free_port
from devstack.postgres import PostgresServer
from devstack.processes import ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Iterator

Kind = Literal["reelmail", "original", "bare"]
Backend = Literal["sqlite", "postgresql", "none"]
_REPO: Final = Path(__file__).resolve().parent.parent
_TO_HEADER: Final = re.compile(rb"^To: ([^\r\n]+)", re.MULTILINE)
_UNLIMITED: Final = "1000000000"
_ACCEPTED: Final = 202
_MODULES: Final[dict[Kind, str]] = {
    "reelmail": "movies",
    "original": "bench.original_api",
    "bare": "bench.bare_api",
}


@dataclass(frozen=True, slots=True)
class ApiCase:
    """Which service, on which database, with or without tracing, in how many processes.

    ``sampling_ratio`` samples traces with ``parentbased_traceidratio`` at that ratio
    (empty: every trace); ``durable`` puts the database on the PostgreSQL server that
    runs with production durability (``fsync``, ``synchronous_commit``) instead of the
    fast one.
    """

    kind: Kind
    backend: Backend
    telemetry: bool
    processes: int = 1
    sampling_ratio: str = ""
    durable: bool = False

    @property
    def name(self) -> str:
        """A short name for keys, databases and log files."""
        tracing = "otel" if self.telemetry else "nootel"
        durable = "_durable" if self.durable else ""
        return f"{self.kind}_{self.backend}{durable}_{tracing}_{self.processes}p"


@dataclass(frozen=True, slots=True)
class Deployment:
    """The processes serving one case: their code-request URLs and process ids."""

    urls: tuple[str, ...]
    pids: tuple[int, ...]


@dataclass
class ApiBench:
    """What B2, B3 and B5 share: the broker, the span receiver, the PostgreSQL servers.

    ``postgres`` runs with durability off, as the tests' server does; ``durable_postgres``
    (when given) with PostgreSQL's production defaults. ``clients`` is how many client
    addresses the load comes from (``X-Forwarded-For``, which movies trusts from
    loopback); ``probes_sent`` counts the settling probes, which are requests too.
    """

    bootstrap_servers: str
    receiver: OtlpReceiver
    workdir: Path
    postgres: PostgresServer | None
    migrate_first: bool = True
    request_timeout_s: float = 5.0
    durable_postgres: PostgresServer | None = None
    probes_sent: int = 0

    @contextlib.contextmanager
    def serving(self, case: ApiCase, topic: str) -> Iterator[str]:
        """Run the service for ``case`` on a fresh database; yield its code-request URL."""
        with self.deployed(case, topic) as deployment:
            yield deployment.urls[0]

    @contextlib.contextmanager
    def deployed(self, case: ApiCase, topic: str) -> Iterator[Deployment]:
        """Run ``case.processes`` processes of the service on one fresh database."""
        env = self._env(case, topic)
        log_stem = self.workdir / f"{case.name}-{uuid.uuid4().hex[:6]}"
        if case.kind == "reelmail" and self.migrate_first:
            _migrate(env, log_stem.with_suffix(".migrate.log"))
            env["DATABASE_MIGRATE_ON_START"] = "false"
        with contextlib.ExitStack() as stack:
            served = [
                self._start(case, env, stack, log_stem.with_suffix(f".{n}.log"))
                for n in range(case.processes)
            ]
            for process, url in served:
                process.wait_http_ok(url.replace("/auth/codes", "/healthz"), timeout=90)
            yield Deployment(
                tuple(url for _, url in served), tuple(process.pid or 0 for process, _ in served)
            )

    def _start(
        self, case: ApiCase, env: dict[str, str], stack: contextlib.ExitStack, log_path: Path
    ) -> tuple[ServiceProcess, str]:
        port = free_port()
        process = ServiceProcess(_MODULES[case.kind], {**env, "MOVIES_PORT": str(port)}, log_path)
        process.start()
        stack.callback(process.stop, timeout=30)
        return process, f"http://127.0.0.1:{port}/auth/codes"

    def load(self, url: str, rate: float, seconds: float) -> LoadResult:
        """One open-loop schedule against one URL, from one client address."""
        prefix = f"load-{uuid.uuid4().hex[:10]}"
        return self.run(Load((url,), seconds, prefix, self.request_timeout_s, rate=rate))

    def run(self, load: Load) -> LoadResult:
        """Run ``load`` from a process of its own, so the generator never shares a GIL."""
        command = [sys.executable, "-m", "bench.load_generator", *load.argv()]
        # The result goes to a file, not a pipe: a closed loop's latencies run past the
        # pipe's size, and a pipe left non-blocking by the event loop then cuts them off.
        with tempfile.TemporaryFile(mode="w+") as output:
            result = subprocess.run(  # noqa: S603 -- our own module, fixed argv
                command,
                stdout=output,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                cwd=_REPO,
                timeout=load.seconds + 120,
            )
            output.seek(0)
            printed = output.read()
        if result.returncode != 0:
            msg = f"the load generator failed:\n{result.stderr[-3000:]}"
            raise HarnessError(msg)
        return LoadResult(**json.loads(printed))

    def settle(self, url: str, within: float = 60.0) -> float:
        """Wait until a lone code request is answered in a second; return the seconds waited.

        An overloaded run leaves requests queued in the service; the next run must start
        from an idle service, or it measures the previous one's backlog.
        """
        started = time.monotonic()
        while time.monotonic() - started < within:
            self.probes_sent += 1
            if _answers_promptly(url):
                break
            time.sleep(0.5)
        return time.monotonic() - started

    def _env(self, case: ApiCase, topic: str) -> dict[str, str]:
        env = {
            "PYTHONPATH": str(_REPO),
            "DATABASE_URL": self._database_url(case),
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "MAIL_TOPIC": topic,
            "OTP_HMAC_SECRET": secrets.token_urlsafe(48),
            "JWT_SECRET": secrets.token_urlsafe(48),
            "RATE_LIMIT_CODES_PER_CLIENT": _UNLIMITED,
            "RATE_LIMIT_CODES_PER_ADDRESS": _UNLIMITED,
            "LOG_LEVEL": "info",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "OTEL_SERVICE_NAME": "movies",
            **_sampler(case),
            **SEAL_SETTINGS,
        }
        return {**env, **_tracing_env(self.receiver, telemetry=case.telemetry)}

    def _database_url(self, case: ApiCase) -> str:
        name = f"{case.name}_{uuid.uuid4().hex[:8]}"
        if case.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.workdir / name}.db"
        if case.backend == "none":
            return ""
        server = self.durable_postgres if case.durable else self.postgres
        if server is None:
            kind = "durable PostgreSQL" if case.durable else "PostgreSQL"
            msg = f"{kind} is not available"
            raise HarnessError(msg)
        return server.create_database(name)


def _sampler(case: ApiCase) -> dict[str, str]:
    if not case.sampling_ratio:
        return {"OTEL_TRACES_SAMPLER": "always_on"}
    return {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": case.sampling_ratio,
    }


def _answers_promptly(url: str) -> bool:
    body = json.dumps({"email": f"probe-{uuid.uuid4().hex[:12]}@example.com"}).encode()
    request = urllib.request.Request(  # noqa: S310 -- a loopback URL we built
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=1.0) as reply:  # noqa: S310 -- loopback
            return bool(reply.status == _ACCEPTED)
    except (urllib.error.URLError, OSError):
        return False


def _tracing_env(receiver: OtlpReceiver, *, telemetry: bool) -> dict[str, str]:
    endpoint = receiver.endpoint if telemetry else ""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ""}


def _migrate(env: dict[str, str], log_path: Path) -> None:
    """``python -m movies migrate`` before serving, as the Helm hook does."""
    with log_path.open("ab") as log:
        result = subprocess.run(
            [sys.executable, "-m", "movies", "migrate"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=120,
        )
    if result.returncode != 0:
        msg = f"movies migrate failed; see {log_path}"
        raise HarnessError(msg)


@dataclass
class MailArrivals:
    """A sink process that stores each mail as ``<arrival ns>-<n>.eml`` (devstack's sink)."""

    folder: Path
    port: int = 0
    _process: ServiceProcess | None = None

    def start(self, log_path: Path) -> None:
        """Run ``python -m devstack.smtp_sink`` on a free port."""
        self.port = free_port()
        env = {"PYTHONPATH": str(_REPO), "BENCH_SINK_PORT": str(self.port)}
        env["BENCH_SINK_DIR"] = str(self.folder)
        self._process = ServiceProcess("bench.mail_arrivals", env, log_path)
        self._process.start()
        self._process.wait_for_log("smtp sink listening", timeout=30)

    def stop(self) -> None:
        """Stop the sink."""
        if self._process is not None:
            self._process.stop()

    def arrivals(self, prefix: str) -> dict[int, float]:
        """Arrival wall time of each mail to ``<prefix>-<i>@…``, keyed by ``i``."""
        found: dict[int, float] = {}
        marker = f"{prefix}-".encode()
        for path in self.folder.glob("*.eml"):
            head = path.read_bytes()[:4096]
            match = _TO_HEADER.search(head)
            if match is None or not match.group(1).startswith(marker):
                continue
            index = int(match.group(1)[len(marker) :].partition(b"@")[0])
            found[index] = int(path.stem.partition("-")[0]) / 1e9
        return found

    def wait_for(self, prefix: str, count: int, timeout: float) -> dict[int, float]:
        """Poll until ``count`` mails for ``prefix`` arrived, or the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.arrivals(prefix)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.5)
