"""Probes and scrapes are not API traffic: they stay out of the HTTP metrics and so out
of the request rate, the latency histograms and the 5xx ratio MoviesHttpErrorRatioHigh
reads. A /readyz answering 503 through a Kafka blip must not look like a failing API."""

from litestar import Litestar, get
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from movies.platform.health_routes import healthz
from movies.platform.metrics_routes import MetricsController, prometheus_config
from movies.platform.problems import ProblemError, exception_handlers


@get("/readyz", sync_to_thread=False)
def not_ready() -> None:
    raise ProblemError(503, "not-ready", "unreachable: kafka")


@get("/movies/healthz-like", sync_to_thread=False)
def api_route() -> dict[str, str]:
    return {"route": "api"}


def _counted(path: str) -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "litestar_requests"
        for sample in metric.samples
        if sample.name == "litestar_requests_total" and sample.labels.get("path") == path
    )


def test_probes_and_scrapes_are_not_counted_as_api_requests() -> None:
    app = Litestar(
        [healthz, not_ready, api_route, MetricsController],
        middleware=[prometheus_config().middleware],
        exception_handlers=exception_handlers(),
        logging_config=None,
    )
    before = {path: _counted(path) for path in ("/healthz", "/readyz", "/movies/healthz-like")}
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        assert client.get("/movies/healthz-like").status_code == 200
        assert client.get("/metrics").status_code == 200
    assert _counted("/healthz") == before["/healthz"]
    assert _counted("/readyz") == before["/readyz"]
    assert _counted("/metrics") == 0
    assert _counted("/movies/healthz-like") == before["/movies/healthz-like"] + 1
