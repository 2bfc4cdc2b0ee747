"""One observed stack for the whole observability package (traces, metrics, alerts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from observed_stack import ObservedStack, start_observed_stack

if TYPE_CHECKING:
    from collections.abc import Iterator

    from devstack import KafkaBroker
    from devstack.smtp_sink import MailSink


@pytest.fixture(scope="package")
def observed(
    kafka: KafkaBroker,
    smtp_sink: MailSink,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[ObservedStack]:
    stack = start_observed_stack(kafka, smtp_sink, tmp_path_factory.mktemp("observed"))
    yield stack
    stack.stop()
    stack.receiver.stop()
    if request.session.testsfailed:
        for service in (stack.movies, stack.mailer):
            print(f"\n--- {service.module} log ---\n{service.log_tail()}")
