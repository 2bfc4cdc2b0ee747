"""``GET /metrics``: Litestar's Prometheus controller, in OpenMetrics so exemplars show."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from movies.platform.instrumentation import OPERATIONS_PATHS
from movies.platform.metrics import trace_exemplar


class MetricsController(PrometheusController):
    """The scrape endpoint; kept out of the API schema, since it is for Prometheus only."""

    path = "/metrics"
    openmetrics_format = True
    include_in_schema = False


def prometheus_config() -> PrometheusConfig:
    """HTTP metrics of API routes, labelled by route template, never by raw path.

    Probes and scrapes are left out: a 503 from /readyz while Kafka blips is not an API
    error, and probe traffic would dilute the 5xx ratio and the latency of real requests.
    """
    return PrometheusConfig(
        app_name="movies",
        group_path=True,
        exemplars=trace_exemplar,
        exclude=OPERATIONS_PATHS,
    )
