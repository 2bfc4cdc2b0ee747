"""The built image, run as the chart's pods against the session's broker, database and sink.

`make image-test` builds the image and names it in REELMAIL_IMAGE.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from deployed_image import Deployment, HostServices, deployed
from podman_pods import podman

from run_figures import record

if TYPE_CHECKING:
    from collections.abc import Iterator

    from devstack import KafkaBroker
    from devstack.postgres import PostgresServer
    from devstack.smtp_sink import MailSink

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def image() -> str:
    name = os.environ.get("REELMAIL_IMAGE", "")
    if not name:
        reason = "REELMAIL_IMAGE is not set: run these tests through `make image-test`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    record("image", "image", name)
    size = int(podman("image", "inspect", "--format={{.Size}}", name))
    record("image", "image size (MB)", size // 10**6)
    return name


@pytest.fixture(scope="session")
def deployment(  # noqa: PLR0913, PLR0917 -- each part of the stack is a session fixture
    image: str,
    kafka: KafkaBroker,
    smtp_sink: MailSink,
    postgres: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    services = HostServices(kafka, postgres, smtp_sink)
    with deployed(image, services, tmp_path_factory.mktemp("image")) as running:
        yield running
        if request.session.testsfailed:
            for pod in (running.movies, running.mailer):
                print(f"\n--- {pod.plan.name} container log ---\n{pod.log_tail()}")
