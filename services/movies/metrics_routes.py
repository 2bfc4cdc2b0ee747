"""``GET /metrics``: Litestar's Prometheus controller, in OpenMetrics so exemplars show."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from movies.metrics import trace_exemplar


class MetricsController(PrometheusController):
    """The scrape endpoint; kept out of the API schema, since it is for Prometheus only."""

    path = "/metrics"
    openmetrics_format = True
    include_in_schema = False


def prometheus_config() -> PrometheusConfig:
    """HTTP metrics labelled by route template (``/movies/{movie_id}``), never by raw path."""
    return PrometheusConfig(
        app_name="movies",
        group_path=True,
        exemplars=trace_exemplar,
        exclude=["/metrics"],
    )
