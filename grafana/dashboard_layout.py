"""The frame every reelmail dashboard shares: time range, refresh, rows and panel ids.

Panel ids are assigned here, in reading order, instead of by Grafana on import, so the
committed JSON is the same on every run and links to ``viewPanel=<id>`` stay valid.
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard

PanelBuilder = Builder[dashboard.Panel]
Section = tuple[str, Sequence[PanelBuilder]]


def new_dashboard(uid: str, title: str, description: str) -> dashboard_builders.Dashboard:
    """Start a dashboard with our fixed uid, tags, time range and refresh."""
    return (
        dashboard_builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["reelmail"])
        .timezone("browser")
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(dashboard.DashboardCursorSync.CROSSHAIR)
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
