"""The `helm test` pod's script, run here against real local HTTP servers: it passes
when both services are ready, and when KEDA has scaled the mailer to zero; it fails
when a service answers 503 or, unless it may be scaled to zero, does not answer."""

from __future__ import annotations

import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from chart_rendering import of_kind, render

from devstack.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator


def _handler(status: int) -> type[BaseHTTPRequestHandler]:
    class Readyz(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"status":"ready"}' if status == 200 else b'{"reason":"not joined"}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return

    return Readyz


@contextmanager
def _serving(status: int) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(status))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _run_test_pod(scenario: str, ports: dict[str, int], *flags: str) -> subprocess.CompletedProcess:
    (pod,) = of_kind(render(scenario, *flags), "Pod")
    python, dash_c, script, *targets = pod["spec"]["containers"][0]["command"]
    assert (python, dash_c) == ("python", "-c")
    local = []
    for target in targets:
        name, _, url = target.partition("=")
        path = url.split("/", 3)[3]
        local.append(f"{name}=http://127.0.0.1:{ports[name.rstrip('?')]}/{path}")
    return subprocess.run(
        [sys.executable, "-c", script, *local],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("scenario", ["default", "keda"])
def test_helm_test_passes_when_both_services_are_ready(scenario):
    with _serving(200) as movies, _serving(200) as mailer:
        result = _run_test_pod(scenario, {"movies": movies, "mailer": mailer})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" 200 ") == 2


def test_helm_test_passes_when_keda_scaled_the_mailer_to_zero():
    with _serving(200) as movies:
        result = _run_test_pod("keda", {"movies": movies, "mailer": free_port()})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "scaled to zero" in result.stdout


@pytest.mark.parametrize(
    ("scenario", "flags"),
    [("default", ()), ("keda", ("--set", "mailer.keda.minReplicaCount=1"))],
)
def test_helm_test_fails_when_a_mailer_that_must_run_does_not_answer(scenario, flags):
    with _serving(200) as movies:
        result = _run_test_pod(scenario, {"movies": movies, "mailer": free_port()}, *flags)
    assert result.returncode == 1, result.stdout + result.stderr


@pytest.mark.parametrize("scenario", ["default", "keda"])
def test_helm_test_fails_when_a_service_is_not_ready(scenario):
    with _serving(200) as movies, _serving(503) as mailer:
        result = _run_test_pod(scenario, {"movies": movies, "mailer": mailer})
    assert result.returncode == 1
    assert "not joined" in result.stdout


def test_the_mailer_service_lists_pods_that_are_not_ready():
    (service,) = [
        s for s in of_kind(render("keda"), "Service") if s["metadata"]["name"].endswith("-mailer")
    ]
    assert service["spec"]["publishNotReadyAddresses"] is True
