"""Files that the deployment consumes but another area of the project writes.

The alert rules and the dashboards come from the dashboards-and-alerts work. Until they
land, the tests that compare against them skip and say why; in CI (CI=true) a missing
file is a failure, because a release without them would ship an empty PrometheusRule
or no dashboards.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "deploy" / "helm" / "reelmail"

CHART_RULES = CHART_DIR / "files" / "prometheus-rules.yaml"
CHART_THRESHOLDS = CHART_DIR / "files" / "alert-thresholds.yaml"
CHART_DASHBOARDS = CHART_DIR / "dashboards"
RULES_FILE = REPO_ROOT / "deploy" / "prometheus" / "alerts.yaml"
GRAFANA_DASHBOARDS = REPO_ROOT / "grafana" / "dashboards"


def in_ci() -> bool:
    """CI sets CI=true; there, nothing may be skipped for want of a file."""
    return os.environ.get("CI", "").lower() == "true"


def require(path: Path, *, pattern: str | None = None) -> list[Path]:
    """Return the file (or the folder's files matching pattern), or skip/fail without."""
    found = sorted(path.glob(pattern)) if pattern else ([path] if path.is_file() else [])
    if not found:
        what = (
            f"{path.relative_to(REPO_ROOT)}/{pattern}" if pattern else path.relative_to(REPO_ROOT)
        )
        reason = f"{what} is not there yet (written by the dashboards-and-alerts work)"
        if in_ci():
            pytest.fail(f"{reason}; in CI it must exist")
        pytest.skip(reason)
    return found
