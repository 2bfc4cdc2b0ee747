"""One Apache Kafka KRaft process (combined broker and controller) run with ``java`` on loopback.

The single broker of the tests and ``make run`` (:mod:`devstack.kafka_broker`) and each
node of the three-node cluster of the drills (:mod:`devstack.kafka_cluster`) are this
one class; they differ only in the :class:`NodeSpec` they hand it: node id, ports, the
controller quorum and the replication the node applies to the topics it creates.
"""

from __future__ import annotations

import base64
import re
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Final

import structlog

from devstack import kafka_admin
from devstack.broker_jars import resolve_broker_jars
from devstack.errors import HarnessError
from devstack.ports import free_port
from devstack.processes import reap

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

log = structlog.get_logger(__name__)

MIN_JAVA: Final = 17
LOOPBACK: Final = "127.0.0.1"
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


@dataclass(frozen=True, slots=True)
class Replication:
    """How many copies of every partition, and how many must have a write before its ack.

    Applied as the broker defaults, so the internal topics (``__consumer_offsets``,
    transaction and share state) get them as well as the topics we create.
    """

    factor: int
    min_insync: int

    def broker_settings(self) -> dict[str, str]:
        """Return the ``server.properties`` entries giving every topic this replication."""
        factor, min_insync = str(self.factor), str(self.min_insync)
        return {
            "default.replication.factor": factor,
            "min.insync.replicas": min_insync,
            "offsets.topic.replication.factor": factor,
            "transaction.state.log.replication.factor": factor,
            "transaction.state.log.min.isr": min_insync,
            "share.coordinator.state.topic.replication.factor": factor,
            "share.coordinator.state.topic.min.isr": min_insync,
        }


STANDALONE: Final = Replication(factor=1, min_insync=1)


@dataclass(frozen=True, slots=True)
class NodePorts:
    """The client (PLAINTEXT) and controller ports of one node, kept across restarts."""

    client: int
    controller: int

    @classmethod
    def free(cls) -> NodePorts:
        """Two ports the kernel says are free now."""
        return cls(client=free_port(), controller=free_port())


def quorum_voters(ports: Iterable[tuple[int, NodePorts]]) -> str:
    """``controller.quorum.voters`` for these (node id, ports): every node votes."""
    return ",".join(f"{node_id}@{LOOPBACK}:{p.controller}" for node_id, p in ports)


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """Everything a node's configuration is made of."""

    node_id: int
    ports: NodePorts
    voters: str
    cluster_id: str
    replication: Replication
    heap_mb: int = 512


class KafkaNode:
    """Start, stop, kill and restart one KRaft process whose data survives restarts."""

    def __init__(self, workdir: Path, spec: NodeSpec) -> None:
        """Prepare a node living in ``workdir``; nothing runs until :meth:`start`."""
        self.workdir = workdir
        self.spec = spec
        self.log_path = workdir / "broker.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None

    @property
    def node_id(self) -> int:
        """The node's id, the same one metadata names as a partition's leader or replica."""
        return self.spec.node_id

    @property
    def address(self) -> str:
        """The ``host:port`` clients reach this node on."""
        return f"{LOOPBACK}:{self.spec.ports.client}"

    @property
    def pid(self) -> int | None:
        """The OS process id while it runs."""
        return None if self._process is None else self._process.pid

    def is_running(self) -> bool:
        """Whether the process we started is still alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 90.0) -> float:
        """Launch the node and wait until it serves metadata; return the seconds it took."""
        started = time.monotonic()
        self.launch()
        self.wait_ready(started + timeout)
        return time.monotonic() - started

    def launch(self) -> None:
        """Start the process (formatting its storage the first time) without waiting.

        The nodes of a cluster are launched together: none is ready before a majority
        of the controller quorum runs.
        """
        if self.is_running():
            return
        java = _require_java()
        classpath = _classpath()
        config = self._write_config()
        if not (self.workdir / "data" / "meta.properties").exists():
            _format_storage(java, classpath, config, self.spec.cluster_id)
        self._stdout = (self.workdir / "broker.stdout").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 -- fixed argv built from our own config
            _java_argv(java, classpath, config, self.spec.heap_mb, self.workdir),
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, deadline: float) -> None:
        """Block until this node is registered and answers metadata, or fail with its log."""
        kafka_admin.wait_for_metadata(
            self.address, deadline, node_id=self.node_id, alive=self._fail_if_exited
        )

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (a controlled shutdown), SIGKILL past the deadline; return the exit status."""
        self.terminate()
        return self.reap(timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash would; :meth:`start` brings the node back with its data."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
        self.reap(10.0)

    def terminate(self) -> None:
        """Send SIGTERM and return at once, so several nodes can shut down together."""
        if self.is_running() and self._process is not None:
            self._process.send_signal(signal.SIGTERM)

    def reap(self, timeout: float) -> int | None:
        """Wait for the signalled process to exit (SIGKILL after ``timeout``), forget it.

        Returns its exit status, None when no process was running.
        """
        process, self._process = self._process, None
        status = None if process is None else reap(process, timeout)
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None
        return status

    def log_tail(self, lines: int = 80) -> str:
        """Return the end of the node's log, for a failing test to print."""
        if not self.log_path.exists():
            return "(no broker log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _fail_if_exited(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            code = self._process.returncode
            msg = f"Kafka node {self.node_id} exited with {code}:\n{self.log_tail()}"
            raise HarnessError(msg)

    def _write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "server.properties"
        settings = node_settings(self.spec, self.workdir / "data")
        path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        (self.workdir / "log4j2.properties").write_text(_LOG4J2.format(log=self.log_path))
        return path


def node_settings(spec: NodeSpec, data: Path) -> dict[str, str]:
    """Build the ``server.properties`` of one combined broker+controller node."""
    client, controller = spec.ports.client, spec.ports.controller
    return {
        "process.roles": "broker,controller",
        "node.id": str(spec.node_id),
        "controller.quorum.voters": spec.voters,
        "listeners": f"PLAINTEXT://{LOOPBACK}:{client},CONTROLLER://{LOOPBACK}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{client}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data),
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        "unclean.leader.election.enable": "false",
        "offsets.topic.num.partitions": "5",
        **spec.replication.broker_settings(),
        "group.initial.rebalance.delay.ms": "0",
        # 2 MiB, so tests can feed the mailer the 1 MiB poison records it must survive
        "message.max.bytes": "2097152",
    }


def _classpath() -> str:
    jars = resolve_broker_jars()
    if not jars.cached:
        log.info("kafka broker jars resolved", seconds=round(jars.seconds, 2))
    return f"{jars.libs}/*"


def _java_argv(java: str, classpath: str, config: Path, heap_mb: int, workdir: Path) -> list[str]:
    return [
        java,
        f"-Xms{heap_mb // 2}m",
        f"-Xmx{heap_mb}m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={workdir / 'log4j2.properties'}",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(config),
    ]


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
