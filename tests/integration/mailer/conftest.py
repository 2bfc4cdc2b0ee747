"""Fixtures for the mailer's own tests: a fresh topic and group per test."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from mailer_harness import MailerUnderTest

from devstack.smtp_sink import MailSink, SinkPolicy

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from devstack import KafkaBroker


@pytest.fixture
def mailer(
    kafka: KafkaBroker,
    smtp_sink: MailSink,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[MailerUnderTest]:
    topic = f"mail.otp.test-{uuid.uuid4().hex[:8]}"
    kafka.create_topics({topic: 3, f"{topic}.dlq": 1})
    under_test = MailerUnderTest(kafka, smtp_sink, topic, tmp_path_factory.mktemp("mailer"))
    yield under_test
    if under_test.process is not None:
        under_test.process.stop()
    smtp_sink.handler.policy = SinkPolicy()
    smtp_sink.start()
    report = getattr(request.node, "call_report", None)
    if report is not None and report.failed:
        print(f"\n--- mailer logs ---\n{under_test.logs()[-6000:]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call":
        item.call_report = report  # type: ignore[attr-defined]
    return report
