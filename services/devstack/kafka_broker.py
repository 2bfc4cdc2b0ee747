"""A single-node Apache Kafka broker (KRaft, broker+controller) run with ``java`` on loopback.

Used by the pytest session fixture, by ``make run`` and by the benchmarks. When
``KAFKA_BOOTSTRAP_SERVERS`` is set, nothing is started and that broker is used instead.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Final

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from devstack.broker_jars import resolve_broker_jars
from devstack.errors import HarnessError
from devstack.ports import free_port

log = structlog.get_logger(__name__)

MIN_JAVA: Final = 17
EXTERNAL_ENV: Final = "KAFKA_BOOTSTRAP_SERVERS"
_JAVA_VERSION = re.compile(r'version "(\d+)')
_LOG4J2 = """\
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.state.name=state.change.logger
logger.state.level=WARN
appender.file.type=File
appender.file.name=file
appender.file.fileName={log}
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
"""


class KafkaBroker:
    """Start, stop, kill and restart one local broker whose data survives restarts."""

    def __init__(self, workdir: Path, *, heap_mb: int = 512, cluster_id: str | None = None) -> None:
        """Prepare a broker living in ``workdir``; nothing runs until :meth:`start`."""
        self.workdir = workdir
        self.heap_mb = heap_mb
        self.cluster_id = cluster_id or new_cluster_id()
        self.log_path = workdir / "broker.log"
        self._external = os.environ.get(EXTERNAL_ENV, "").strip()
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None
        self._ports: tuple[int, int] | None = None
        self.cold_start_seconds: float | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` clients connect to."""
        if self._external:
            return self._external
        if self._ports is None:
            msg = "the broker has not been started"
            raise HarnessError(msg)
        return f"127.0.0.1:{self._ports[0]}"

    @property
    def is_external(self) -> bool:
        """True when an existing broker was named in ``KAFKA_BOOTSTRAP_SERVERS``."""
        return bool(self._external)

    def start(self, timeout: float = 90.0) -> float:
        """Start the broker (resolving jars on first use) and return seconds until ready."""
        started = time.monotonic()
        if not self._external:
            self._launch()
        self._wait_ready(started + timeout)
        elapsed = time.monotonic() - started
        self.cold_start_seconds = self.cold_start_seconds or elapsed
        log.info("kafka broker ready", bootstrap=self.bootstrap_servers, seconds=round(elapsed, 2))
        return elapsed

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL if the broker has not exited by the deadline."""
        self._signal_and_reap(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would; :meth:`start` brings it back with its data."""
        self._signal_and_reap(signal.SIGKILL, 10.0)

    def is_running(self) -> bool:
        """Whether the broker process we started is still alive."""
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 80) -> str:
        """Return the end of the broker log, for a failing test to print."""
        if not self.log_path.exists():
            return "(no broker log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def create_topics(self, partitions: Mapping[str, int]) -> None:
        """Create topics with the given partition counts; existing ones are left alone."""
        asyncio.run(self.create_topics_async(partitions))

    async def create_topics_async(self, partitions: Mapping[str, int]) -> None:
        """Async form of :meth:`create_topics`, for callers already inside an event loop."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            for name, count in partitions.items():
                try:
                    await admin.create_topics([NewTopic(name, count, 1)])
                except TopicAlreadyExistsError:
                    continue
        finally:
            await admin.close()

    def _launch(self) -> None:
        if self.is_running():
            return
        java = _require_java()
        jars = resolve_broker_jars()
        if not jars.cached:
            log.info("kafka broker jars resolved", seconds=round(jars.seconds, 2))
        classpath = f"{jars.libs}/*"
        config = self._write_config()
        if not (self.workdir / "data" / "meta.properties").exists():
            _format_storage(java, classpath, config, self.cluster_id)
        self._stdout = (self.workdir / "broker.stdout").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 -- fixed argv built from our own config
            [
                java,
                f"-Xms{self.heap_mb // 2}m",
                f"-Xmx{self.heap_mb}m",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
                "-cp",
                classpath,
                "kafka.Kafka",
                str(config),
            ],
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._ports is None:
            self._ports = (free_port(), free_port())
        client, controller = self._ports
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{controller}",
            "listeners": f"PLAINTEXT://127.0.0.1:{client},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{client}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.workdir / "data"),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # 2 MiB, so tests can feed the mailer the 1 MiB poison records it must survive
            "message.max.bytes": "2097152",
        }
        path = self.workdir / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        (self.workdir / "log4j2.properties").write_text(_LOG4J2.format(log=self.log_path))
        return path

    def _wait_ready(self, deadline: float) -> None:
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                msg = f"the Kafka broker exited with {self._process.returncode}:\n{self.log_tail()}"
                raise HarnessError(msg)
            try:
                _probe_port(self.bootstrap_servers)
                asyncio.run(_probe_metadata(self.bootstrap_servers))
            except (KafkaError, OSError) as exc:
                last_error = repr(exc)
                time.sleep(0.25)
            else:
                return
        msg = f"the Kafka broker at {self.bootstrap_servers} was not ready in time ({last_error})"
        raise HarnessError(msg)

    def _signal_and_reap(self, signum: signal.Signals, timeout: float) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signum)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("kafka broker ignored SIGTERM; killing it", timeout=timeout)
                process.kill()
                process.wait(10)
        self._process = None
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None


def _probe_port(bootstrap_servers: str) -> None:
    """Cheap TCP check first, so the Kafka client does not log every refused connect."""
    host, _, port = bootstrap_servers.split(",", 1)[0].rpartition(":")
    with socket.create_connection((host, int(port)), timeout=1.0):
        pass


async def _probe_metadata(bootstrap_servers: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=3000)
    await admin.start()
    try:
        await admin.describe_cluster()
    finally:
        await admin.close()


def _require_java() -> str:
    java = shutil.which("java")
    if java is None:
        msg = f"Java {MIN_JAVA}+ (java) is not on PATH: install a JDK or JRE {MIN_JAVA}+."
        raise HarnessError(msg)
    probe = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)  # noqa: S603 -- fixed argv
    match = _JAVA_VERSION.search(probe.stderr)
    if match is None or int(match.group(1)) < MIN_JAVA:
        msg = f"Kafka 4 needs Java {MIN_JAVA}+, and `java -version` says: {probe.stderr.strip()}"
        raise HarnessError(msg)
    return java


def new_cluster_id() -> str:
    """Return a random KRaft cluster id, in Kafka's own URL-safe base64 form.

    Like Kafka's ``Uuid.randomUuid``, it never starts with ``-``: about one random id in
    64 would, and a command line could read such an id as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def storage_format_argv(java: str, classpath: str, config: Path, cluster_id: str) -> list[str]:
    """Build the storage tool's command line; ``--cluster-id=`` keeps the id one argument."""
    return [
        java,
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        f"--cluster-id={cluster_id}",
        f"--config={config}",
    ]


def _format_storage(java: str, classpath: str, config: Path, cluster_id: str) -> None:
    result = subprocess.run(  # noqa: S603 -- fixed argv built from our own config
        storage_format_argv(java, classpath, config, cluster_id),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        msg = f"formatting KRaft storage failed:\n{result.stdout}{result.stderr}"
        raise HarnessError(msg)
