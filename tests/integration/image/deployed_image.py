"""The image deployed as the chart would deploy it, on the host's network and its services.

The three workloads start in the order a `helm install` runs them: the migrations Job to
its end, then movies and the mailer. The chart is rendered with the session's broker,
SMTP sink and trace receiver as its values, and the Secrets it names are given here.
"""

from __future__ import annotations

import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chart_pods import PodPlan, plan, render
from podman_pods import PodmanPod

from devstack import KafkaBroker
from devstack.otlp_receiver import OtlpReceiver
from devstack.ports import free_port
from devstack.postgres import PostgresServer
from devstack.seal_keys import seal_settings
from devstack.smtp_sink import MailSink
from mailcontract.sealing import KEYS_VARIABLE
from run_figures import record

if TYPE_CHECKING:
    from collections.abc import Iterator

# On the host's network every port is the host's: the pods bind loopback only.
LOOPBACK = {"MOVIES_HOST": "127.0.0.1", "MAILER_HOST": "127.0.0.1"}
SEAL_KEY_ID = "image-test-1"
# SMTP connections of the mailer pods: 40 mails at 0.5 s a reply take about 5 s through 4.
DRAIN_POOL_SIZE = 4


@dataclass
class Deployment:
    """The running pods and what the tests need to reach them."""

    image: str
    movies: PodmanPod
    mailer: PodmanPod
    api: str
    topic: str
    receiver: OtlpReceiver
    workdir: Path


@dataclass(frozen=True)
class HostServices:
    """What the pods talk to: the session's real broker, database server and SMTP sink."""

    kafka: KafkaBroker
    postgres: PostgresServer
    sink: MailSink


@contextmanager
def deployed(image: str, services: HostServices, workdir: Path) -> Iterator[Deployment]:
    """Migrate, start movies and the mailer, wait for both to be ready; stop them after."""
    topic = f"mail.otp.image-{uuid.uuid4().hex[:8]}"
    services.kafka.create_topics({topic: 3, f"{topic}.dlq": 1})
    receiver = OtlpReceiver()
    receiver.start()
    try:
        manifests = render("reelmail", _chart_values(services, topic, receiver.endpoint), workdir)
        database = services.postgres.create_database(f"image_{uuid.uuid4().hex[:10]}")
        given = _secrets(database)
        _migrate(image, plan(manifests, "Job", "migrations", given), workdir)
        movies, mailer = (
            PodmanPod(
                _on_loopback(plan(manifests, "Deployment", name, given)),
                image,
                workdir / f"{name}.log",
            )
            for name in ("movies", "mailer")
        )
        with _running(movies, mailer):
            yield Deployment(image, movies, mailer, _api(movies), topic, receiver, workdir)
    finally:
        receiver.stop()


def _chart_values(services: HostServices, topic: str, tracing: str) -> dict[str, Any]:
    """The values a user would give to point the chart at these services."""
    return {
        "auth": {"existingSecret": "reelmail-auth", "mailSealActiveKey": SEAL_KEY_ID},
        "database": {"existingSecret": "reelmail-database"},
        "kafka": {"bootstrapServers": services.kafka.bootstrap_servers, "topic": topic},
        # A small pool, so a burst to a slow relay is still being sent when SIGTERM comes.
        "mailer": {
            "consumerGroup": f"{topic}-mailer",
            "port": free_port(),
            "extraEnv": [_env("SMTP_POOL_SIZE", str(DRAIN_POOL_SIZE))],
        },
        # Every request comes from 127.0.0.1: one client, over the default limit of 30.
        "movies": {"port": free_port(), "extraEnv": [_env("RATE_LIMIT_CODES_PER_CLIENT", "1000")]},
        "smtp": {"host": "127.0.0.1", "port": services.sink.port, "security": "plain"},
        # Every trace kept (the chart samples a tenth): the trace test needs its one request's.
        "otel": {"enabled": True, "endpoint": tracing, "samplerArg": "1.0"},
    }


def _env(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def _secrets(database_url: str) -> dict[str, str]:
    """What the Secrets named in the values would hold in a cluster."""
    return {
        "reelmail-auth/OTP_HMAC_SECRET": secrets.token_urlsafe(48),
        "reelmail-auth/JWT_SECRET": secrets.token_urlsafe(48),
        "reelmail-auth/MAIL_SEAL_KEYS": seal_settings(key_id=SEAL_KEY_ID)[KEYS_VARIABLE],
        "reelmail-database/DATABASE_URL": database_url,
    }


def _migrate(image: str, job: PodPlan, workdir: Path) -> None:
    """Run the migrations Job's container to its end, as the pre-install hook does."""
    pod = PodmanPod(job, image, workdir / "migrations.log")
    pod.start()
    try:
        code = pod.wait_exit(timeout=120)
        assert code == 0, f"the migrations Job's container ended with {code}:\n{pod.log_tail()}"
    finally:
        pod.remove()
    record(
        "image", "migrations Job, start to exit 0 (s)", f"{time.monotonic() - pod.started_at:.2f}"
    )


def _on_loopback(pod: PodPlan) -> PodPlan:
    return replace(pod, env={name: LOOPBACK.get(name, value) for name, value in pod.env.items()})


def _api(movies: PodmanPod) -> str:
    assert movies.plan.readiness is not None
    return f"http://127.0.0.1:{movies.plan.readiness[1]}"


@contextmanager
def _running(*pods: PodmanPod) -> Iterator[None]:
    """Start the pods together, as a rollout does, and time each one to ready."""
    try:
        for pod in pods:
            pod.start()
        # Waited on side by side: one after the other, the second's time would include the first's.
        with ThreadPoolExecutor(len(pods)) as waiting:
            ready = list(waiting.map(PodmanPod.wait_ready, pods))
        for pod, seconds in zip(pods, ready, strict=True):
            record("image", f"{pod.plan.name} cold start to ready (s)", f"{seconds:.2f}")
        yield
    finally:
        for pod in pods:
            pod.remove()
