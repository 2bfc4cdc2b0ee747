"""Shared panel defaults, so every panel reads the same way and sets what we check.

Every panel is built through :func:`timeseries_panel` or :func:`stat_panel`, which
take the unit and description as required arguments and point the panel at the
``$datasource`` variable: the properties the dashboard tests insist on cannot be
forgotten one panel at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import heatmap, prometheus, stat, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_models
from grafana_foundation_sdk.models import heatmap as heatmap_models
from grafana_foundation_sdk.models.dashboard import DataSourceRef, ThresholdsMode
from grafana_foundation_sdk.models.dashboard import Threshold as Step
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from grafana.dashboard_markers import threshold_value
from grafana.rule_dialects import RUNBOOK_BASE_URL
from grafana.rule_model import runbook_slug
from grafana.thresholds import INSTANCES_UP_MINIMUM, Threshold

if TYPE_CHECKING:
    from collections.abc import Sequence

    from grafana_foundation_sdk.cog.builder import Builder
    from grafana_foundation_sdk.cog.variants import Dataquery

DATASOURCE: Final = DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE: Final = "$__rate_interval"
QUANTILES: Final = (0.5, 0.95, 0.99)


def query(expr: str, legend: str, ref_id: str = "A") -> prometheus.Dataquery:
    """Query the dashboard's data source over the time range."""
    return (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend)
        .ref_id(ref_id)
        .datasource(DATASOURCE)
        .range()
    )


def instant_query(expr: str, legend: str) -> prometheus.Dataquery:
    """Query only the end of the range, for stats whose expression spans ``$__range``."""
    return query(expr, legend).instant()


def thresholds(
    steps: Sequence[tuple[Threshold, str]], base: str = "green"
) -> dashboard_builders.ThresholdsConfig:
    """Colour a panel at alert thresholds: the same numbers the rules compare with.

    Steps take :class:`~grafana.thresholds.Threshold` objects, never bare numbers, so
    a panel cannot draw a line no alert has, and the chart can put the installation's
    thresholds into its copy of the dashboard (grafana/dashboard_bindings.py).
    """
    return (
        dashboard_builders.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps(
            [Step(value=None, color=base)]
            + [Step(value=threshold_value(limit), color=color) for limit, color in steps]
        )
    )


def count_up_panel(title: str, description: str, series: str, alerts: Sequence[str]) -> stat.Panel:
    """Count instances that are up (or ready): red below one, linked to the alerts."""
    return (
        stat_panel(title, description, "short")
        .thresholds(thresholds([(INSTANCES_UP_MINIMUM, "green")], base="red"))
        .links(runbook_links(*alerts))
        .with_target(query(f"sum({series})", "up"))
    )


def base_colour(colour: str) -> dashboard_builders.ThresholdsConfig:
    """Colour a panel one way whatever its value: for numbers no alert compares with."""
    return (
        dashboard_builders.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Step(value=None, color=colour)])
    )


def runbook_links(*alerts: str) -> list[Builder[dashboard_models.DashboardLink]]:
    """Link a panel to the runbooks of the alerts it shows the input of."""
    return [
        dashboard_builders.DashboardLink(f"Runbook: {alert}")
        .url(f"{RUNBOOK_BASE_URL}{runbook_slug(alert)}.md")
        .target_blank(target_blank=True)
        for alert in alerts
    ]


def timeseries_panel(title: str, description: str, unit: str) -> timeseries.Panel:
    """Start a time series with thin lines and a multi-series tooltip."""
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(8)
        .span(12)
        .line_width(1)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.NEVER)
        .legend(common_builders.VizLegendOptions().show_legend(show_legend=True))
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
    )


def stat_panel(title: str, description: str, unit: str) -> stat.Panel:
    """Start a single current value with its recent trend behind it."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(8)
        .span(6)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.VALUE)
    )


def quantile_queries(bucket_metric: str, selector: str) -> list[Builder[Dataquery]]:
    """Query p50, p95 and p99 of a histogram; the first asks for trace-id exemplars."""
    buckets = f"{bucket_metric}{{{selector}}}"
    return [
        query(
            f"histogram_quantile({q:g}, sum by (le) (rate({buckets}[{RATE}])))",
            f"p{round(q * 100)}",
            ref_id=ref_id,
        ).exemplar(exemplar=ref_id == "A")
        for q, ref_id in zip(QUANTILES, "ABC", strict=True)
    ]


def share_or_zero(part: str, whole: str) -> str:
    """Divide ``part`` by ``whole``, reading 0, not nothing, while ``part`` is empty.

    Error counters appear at their first error, so a plain ratio would show "no data"
    exactly when everything is fine.
    """
    return f"({part} or 0 * {whole})\n/\n{whole}"


def heatmap_panel(title: str, description: str, bucket_metric: str, selector: str) -> heatmap.Panel:
    """Show a seconds histogram's buckets over time; exemplar dots link to traces."""
    buckets = f"{bucket_metric}{{{selector}}}"
    target = (
        query(f"sum by (le) (increase({buckets}[{RATE}]))", "{{le}}")
        .format(PromQueryFormat.HEATMAP)
        .exemplar(exemplar=True)
    )
    return (
        heatmap.Panel()
        .title(title)
        .description(description)
        .unit("s")
        .datasource(DATASOURCE)
        .height(8)
        .span(12)
        .calculate(calculate=False)
        .y_axis(heatmap.YAxisConfig().unit("s"))
        .color(
            heatmap.HeatmapColorOptions()
            .mode(heatmap_models.HeatmapColorMode.SCHEME)
            .scheme("Oranges")
            .scale(heatmap_models.HeatmapColorScale.EXPONENTIAL)
            .exponent(0.5)
        )
        .with_target(target)
    )


def latency_panel(
    title: str, description: str, bucket_metric: str, selector: str
) -> timeseries.Panel:
    """Plot latency quantiles of a seconds histogram, exemplars linking to traces."""
    return timeseries_panel(title, description, "s").targets(
        quantile_queries(bucket_metric, selector)
    )


def dashed_threshold_lines() -> common_builders.GraphThresholdsStyleConfig:
    """Draw a time series' thresholds as dashed lines, leaving the plot area clear."""
    return common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
