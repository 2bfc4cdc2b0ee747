"""The frame every dashboard shares: time range, refresh, links, alerts, rows, panel ids.

Panel ids are assigned here, in reading order, instead of by Grafana on import, so the
committed JSON is the same on every run and links to ``viewPanel=<id>`` stay valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard

from grafana.panel_defaults import DATASOURCE
from grafana.rule_dialects import RUNBOOK_BASE_URL

PanelBuilder = Builder[dashboard.Panel]
Section = tuple[str, Sequence[PanelBuilder]]
# Every dashboard, by uid, with the title its links show.
DASHBOARDS: Final = {
    "reelmail-mailer": "Mailer",
    "reelmail-movies": "Movies API",
    "reelmail-otp-slo": "OTP delivery SLO",
}
# The variables a link carries over, so the other dashboard opens on the same scope.
CARRIED_VARIABLES: Final = "${datasource:queryparam}&${namespace:queryparam}"


def _links(uid: str) -> list[Builder[dashboard.DashboardLink]]:
    """Link to every other dashboard (same time range and namespace) and the runbooks."""
    others: list[Builder[dashboard.DashboardLink]] = [
        dashboard_builders.DashboardLink(title)
        .type(dashboard.DashboardLinkType.LINK)
        .url(f"/d/{other}?{CARRIED_VARIABLES}")
        .icon("dashboard")
        .keep_time(keep_time=True)
        for other, title in DASHBOARDS.items()
        if other != uid
    ]
    runbooks = (
        dashboard_builders.DashboardLink("Runbooks")
        .type(dashboard.DashboardLinkType.LINK)
        .url(RUNBOOK_BASE_URL)
        .icon("doc")
        .target_blank(target_blank=True)
    )
    return [*others, runbooks]


def firing_alerts(service: str) -> dashboard_builders.AnnotationQuery:
    """Mark when this service's alerts fired, on every panel, from Prometheus' ALERTS."""
    return (
        dashboard_builders.AnnotationQuery()
        .name("Alerts")
        .datasource(DATASOURCE)
        .enable(enable=True)
        .icon_color("red")
        .expr(
            "sum by (alertname, severity) "
            f'(ALERTS{{alertstate="firing", service="{service}", namespace=~"$namespace"}})'
        )
    )


def new_dashboard(
    uid: str, title: str, description: str, service: str
) -> dashboard_builders.Dashboard:
    """Start a dashboard with our fixed uid, tags, time range, refresh, links and alerts."""
    return (
        dashboard_builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["reelmail"])
        .timezone("browser")
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(dashboard.DashboardCursorSync.CROSSHAIR)
        .links(_links(uid))
        .annotation(firing_alerts(service))
    )


def with_sections(
    board: dashboard_builders.Dashboard, sections: Sequence[Section]
) -> dashboard_builders.Dashboard:
    """Add each section as a row followed by its panels, laid out left to right."""
    for title, panels in sections:
        board = board.with_row(dashboard_builders.Row(title))
        for panel in panels:
            board = board.with_panel(panel)
    return board


def built(board: dashboard_builders.Dashboard) -> dashboard.Dashboard:
    """Build the model and number its rows and panels 1, 2, 3… in reading order."""
    model = board.build()
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
    return model
