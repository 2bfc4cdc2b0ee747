"""Every dashboard reelmail ships, in one list the generator and the query helper share."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from grafana.mailer_dashboard import mailer_dashboard
from grafana.movies_dashboard import movies_dashboard
from grafana.slo_dashboard import slo_dashboard

if TYPE_CHECKING:
    from grafana_foundation_sdk.models import dashboard


def dashboards() -> tuple[dashboard.Dashboard, ...]:
    """Build every dashboard model, each with its fixed uid."""
    return (mailer_dashboard(), movies_dashboard(), slo_dashboard())


def dashboard_json(model: dashboard.Dashboard) -> str:
    """Serialise a dashboard as Grafana imports it, in a stable key order."""
    return json.dumps(model, cls=JSONEncoder, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
