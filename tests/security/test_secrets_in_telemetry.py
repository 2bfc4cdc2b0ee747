"""Issue 8: across a whole drill run, no code, token, password or full address leaks out.

Drill 2 (the SMTP relay down, so retries, refusals and reconnects are all logged) runs
with tracing exported to a receiver, with the sink demanding SMTP AUTH (so a real
password flows through the mailer), and with every metrics scrape kept; afterwards a
few of the mailed codes are exchanged for session tokens, which are then used. Every
log file, every scrape and every exported span is then searched for all of them.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import httpx
import pytest
from telemetry_audit import Secrets, all_leaks, leaks

from devstack.otlp_receiver import OtlpReceiver, ReceivedSpan
from drills.matcher import mailed_codes
from drills.runner import DrillOutcome, run_drill
from drills.scenarios import select
from drills.settings import DrillSettings, SmtpCredentials, TelemetryCapture

if TYPE_CHECKING:
    from pathlib import Path

    from drills.infrastructure import Infrastructure
    from drills.system import SystemUnderDrill

pytestmark = [
    pytest.mark.integration,
    # The sink demands AUTH over plain SMTP on loopback on purpose (see drills.mail_sinks).
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]
SIGN_INS = 5


@dataclass
class AuditedRun:
    """What the drill produced, and the secrets that must not be in it."""

    outcome: DrillOutcome
    secrets: Secrets
    logs: dict[str, str] = field(default_factory=dict)
    scrapes: dict[str, str] = field(default_factory=dict)
    spans: list[ReceivedSpan] = field(default_factory=list)


async def _sign_in(system: SystemUnderDrill, found: Secrets) -> None:
    """Exchange some mailed codes for tokens and use each, so tokens pass through too."""
    mails = await asyncio.to_thread(mailed_codes, system.sink)
    found.codes |= {mail.code for mail in mails if mail.code}
    rows = await system.sql("SELECT email FROM otp_codes")
    found.addresses |= {email for (email,) in rows}
    async with httpx.AsyncClient(base_url=system.movies[0].url, timeout=30) as client:
        for mail in mails[:SIGN_INS]:
            body = {"email": mail.address, "code": mail.code}
            reply = await client.post("/auth/sessions", json=body)
            assert reply.status_code == 201, reply.text
            token = reply.json()["access_token"]
            found.tokens.add(token)
            used = await client.get("/me/watchlist", headers={"Authorization": f"Bearer {token}"})
            assert used.status_code == 200, used.text


def _texts(paths: list[Path]) -> dict[str, str]:
    return {str(path): path.read_text(errors="replace") for path in paths if path.exists()}


def _span_text(span: ReceivedSpan) -> str:
    attributes = " ".join(f"{key}={value}" for key, value in span.attributes.items())
    return f"{span.service} {span.name} {attributes}"


@pytest.fixture(scope="module")
async def audited(
    security_infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> AuditedRun:
    receiver = OtlpReceiver()
    receiver.start()
    password = secrets.token_urlsafe(24)
    workdir = tmp_path_factory.mktemp("audited-drill")
    settings = replace(
        DrillSettings(workdir=workdir),
        rate_per_second=10.0,
        duration_seconds=15.0,
        fault_at_seconds=4.0,
        smtp_outage_seconds=6.0,
        settle_timeout_seconds=120.0,
        quiet_seconds=3.0,
        telemetry=TelemetryCapture(receiver.endpoint, SmtpCredentials("drills", password)),
    )
    found = Secrets(password=password)

    async def after(system: SystemUnderDrill, _outcome: DrillOutcome) -> None:
        await _sign_in(system, found)

    try:
        [drill] = select({2})
        outcome = await run_drill(drill, security_infra, settings, after)
        await asyncio.sleep(1.0)  # the last span batches are flushed at process exit
        spans = receiver.snapshot()
    finally:
        receiver.stop()
    return AuditedRun(
        outcome=outcome,
        secrets=found,
        logs=_texts([*workdir.rglob("*.log"), *security_infra.log_paths()]),
        scrapes=_texts(sorted(workdir.rglob("*.prom"))),
        spans=spans,
    )


def test_the_audit_saw_the_whole_pipeline(audited: AuditedRun) -> None:
    outcome = audited.outcome
    assert outcome.requested == outcome.mailed > 0, outcome
    assert len(audited.secrets.codes) >= outcome.mailed
    assert len(audited.secrets.tokens) == SIGN_INS
    assert any("mailer" in name for name in audited.logs)
    assert any("movies" in name for name in audited.scrapes)
    assert any("mailer" in name for name in audited.scrapes)
    assert {span.service for span in audited.spans} >= {"mailer"}
    print(
        f"audited {len(audited.logs)} logs, {len(audited.scrapes)} scrape files, "
        f"{len(audited.spans)} spans from {sorted({s.service for s in audited.spans})}; "
        f"{len(audited.secrets.codes)} codes, {len(audited.secrets.addresses)} addresses, "
        f"{len(audited.secrets.tokens)} tokens"
    )


def test_no_secret_in_any_log_file(audited: AuditedRun) -> None:
    assert all_leaks(audited.logs.items(), audited.secrets) == []


def test_no_secret_in_any_metrics_scrape(audited: AuditedRun) -> None:
    assert all_leaks(audited.scrapes.items(), audited.secrets) == []


def test_no_secret_in_any_exported_span(audited: AuditedRun) -> None:
    sources = [(f"span {span.service}/{span.name}", _span_text(span)) for span in audited.spans]
    assert all_leaks(sources, audited.secrets) == []


def test_the_search_finds_what_it_looks_for() -> None:
    planted = Secrets(
        codes={"042917"},
        addresses={"drill2-0123abcd-000007@example.com"},
        tokens={"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"},
        password="smtp-password-123",
    )
    clean = '{"timestamp": "2026-11-29T10:00:00.042917Z", "sum": 042917.5, "id": "a042917b"}'
    assert leaks("clean", clean, planted) == []
    for text in [
        '{"code": "042917"}',
        "Ваш код: 042917.",
        "to=Drill2-0123abcd-000007@Example.com",
        "local part drill2-0123abcd-000007 alone",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
        "sig c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
        "AUTH PLAIN with smtp-password-123",
    ]:
        assert leaks("planted", text, planted), text
