"""Issue 14, rung 1: the image runs as the chart's pods, delivers, traces and drains.

The tests share one deployment and run in file order: the last one stops the pods.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest
from podman_pods import PodmanPod
from received_mail import code_in, mails_to, wait_for_any, wait_for_mails

from run_figures import record

if TYPE_CHECKING:
    from deployed_image import Deployment

    from devstack.otlp_receiver import ReceivedSpan
    from devstack.smtp_sink import MailSink

pytestmark = pytest.mark.integration
MESSAGE_ID = re.compile(r"<([0-9a-f-]{36})@")
UNPRIVILEGED = {"CapEff": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2"}


def _addresses(tag: str, count: int) -> list[str]:
    return [f"{tag}-{i}-{uuid.uuid4().hex[:8]}@example.com" for i in range(count)]


async def _request_codes(api: str, addresses: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=api, timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post("/auth/codes", json={"email": a, "locale": "en"}) for a in addresses)
        )
    return [reply.status_code for reply in replies]


def test_codes_asked_of_the_movies_container_arrive_by_the_mailer_container(
    deployment: Deployment, smtp_sink: MailSink
) -> None:
    addresses = _addresses("image", 20)
    assert set(asyncio.run(_request_codes(deployment.api, addresses))) == {202}
    mails = [wait_for_mails(smtp_sink, address, timeout=60)[0] for address in addresses]
    record("image", "mails delivered through the containers", str(len(mails)))
    reply = httpx.post(
        f"{deployment.api}/auth/sessions",
        json={"email": addresses[0], "code": code_in(mails[0])},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text


def _spans_of_trace(
    deployment: Deployment, mail_id: str, timeout: float = 30
) -> list[ReceivedSpan]:
    """The whole trace of the mail's CONSUMER span, once the request's span is in too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spans = deployment.receiver.snapshot()
        process = [s for s in spans if s.attributes.get("messaging.message.id") == mail_id]
        trace = [s for s in spans if process and s.trace_id == process[0].trace_id]
        names = {s.name for s in trace}
        if process and "POST /auth/codes" in names:
            return trace
        time.sleep(0.2)
    msg = f"no complete trace for mail {mail_id} within {timeout}s"
    raise AssertionError(msg)


def test_one_trace_runs_from_the_movies_container_to_the_smtp_reply(
    deployment: Deployment, smtp_sink: MailSink
) -> None:
    [address] = _addresses("image-traced", 1)
    assert asyncio.run(_request_codes(deployment.api, [address])) == [202]
    [mail] = wait_for_mails(smtp_sink, address, timeout=60)
    match = MESSAGE_ID.search(str(mail["Message-ID"]))
    assert match is not None
    trace = {span.name: span for span in _spans_of_trace(deployment, match.group(1))}
    server, send = trace["POST /auth/codes"], trace[f"{deployment.topic} send"]
    process = trace[f"{deployment.topic} process"]
    assert (server.service, server.kind) == ("movies", "SERVER")
    assert (send.service, send.kind) == ("movies", "PRODUCER")
    assert (process.service, process.kind) == ("mailer", "CONSUMER")
    assert process.parent_span_id == send.span_id
    assert process.attributes["smtp.reply.code"] == 250


def _status_fields(pod: PodmanPod) -> dict[str, str]:
    status = pod.exec("cat", "/proc/1/status")
    assert status.returncode == 0, status.stderr
    fields = (line.split(":", 1) for line in status.stdout.splitlines() if ":" in line)
    return {name: value.strip() for name, value in fields}


@pytest.mark.parametrize("service", ["movies", "mailer"])
def test_each_container_runs_under_the_charts_security_context(
    deployment: Deployment, service: str
) -> None:
    pod: PodmanPod = getattr(deployment, service)
    assert pod.exec("id", "-u").stdout.strip() == "10001"
    assert pod.exec("id", "-g").stdout.strip() == "10001"
    refused = pod.exec("sh", "-c", "echo x > /opt/reelmail/probe")
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stderr
    assert pod.exec("sh", "-c", "echo x > /tmp/probe && rm /tmp/probe").returncode == 0
    fields = _status_fields(pod)
    assert {name: fields[name] for name in UNPRIVILEGED} == UNPRIVILEGED


def _terminate_within_budget(pod: PodmanPod) -> float:
    code, seconds = pod.terminate()
    assert code == 0, f"{pod.plan.name} ended with {code} after SIGTERM:\n{pod.log_tail()}"
    record("image", f"{pod.plan.name} SIGTERM to exit 0 (s)", f"{seconds:.2f}")
    assert seconds <= pod.plan.stop_budget_seconds
    return seconds


def _sent(sink: MailSink, addresses: list[str]) -> int:
    return sum(1 for address in addresses if mails_to(sink, address))


def test_sigterm_mid_burst_drains_and_a_new_mailer_loses_nothing(
    deployment: Deployment, smtp_sink: MailSink
) -> None:
    addresses = _addresses("image-drain", 40)
    smtp_sink.policy.reply_delay_seconds = 0.5  # a slow relay: SIGTERM finds mail in flight
    try:
        assert set(asyncio.run(_request_codes(deployment.api, addresses))) == {202}
        sent = wait_for_any(smtp_sink, addresses, timeout=60)
        record("image", "burst mails sent when SIGTERM reached the mailer", f"{sent} of 40")
        assert sent < len(addresses), "the burst was over before SIGTERM: nothing to drain"
        _terminate_within_budget(deployment.mailer)
        record(
            "image",
            "burst mails sent when the mailer exited",
            f"{_sent(smtp_sink, addresses)} of 40",
        )
    finally:
        smtp_sink.policy.reply_delay_seconds = 0.0
    replacement = PodmanPod(
        deployment.mailer.plan, deployment.image, deployment.workdir / "mailer-2.log"
    )
    replacement.start()
    try:
        record("image", "mailer replacement start to ready (s)", f"{replacement.wait_ready():.2f}")
        for address in addresses:
            wait_for_mails(smtp_sink, address, timeout=60)
        duplicates = sum(len(mails_to(smtp_sink, a)) - 1 for a in addresses)
        record("image", "duplicates after the drain", duplicates)
        _terminate_within_budget(replacement)
    finally:
        replacement.remove()
    _terminate_within_budget(deployment.movies)
