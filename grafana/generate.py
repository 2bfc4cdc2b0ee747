"""Write the committed dashboards and rules files: ``python -m grafana.generate``.

Output is deterministic (sorted keys, fixed uids and panel ids, trailing newline), so
``make dashboards`` on a clean tree changes nothing and the drift tests can compare
the committed bytes with :func:`rendered_files`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from grafana.catalog import dashboard_json, dashboards
from grafana.chart_schema import SCHEMA_PATH, values_schema
from grafana.dashboard_bindings import bindings_file
from grafana.rules_files import helm_rules, plain_rules, threshold_defaults

if TYPE_CHECKING:
    from collections.abc import Callable

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
DASHBOARD_DIRS: Final = ("grafana/dashboards", "deploy/helm/reelmail/dashboards")
RULE_FILES: Final[dict[str, Callable[[], str]]] = {
    "deploy/prometheus/alerts.yaml": plain_rules,
    "deploy/helm/reelmail/files/prometheus-rules.yaml": helm_rules,
    "deploy/helm/reelmail/files/alert-thresholds.yaml": threshold_defaults,
    "deploy/helm/reelmail/files/dashboard-bindings.yaml": bindings_file,
}


def rendered_files() -> dict[str, str]:
    """Every generated file's repository-relative path and its exact text.

    values.schema.json is the committed schema with the subtrees the rules define
    rewritten (grafana/chart_schema.py); the rest of it is written by hand.
    """
    files = {path: render() for path, render in RULE_FILES.items()}
    files[SCHEMA_PATH] = values_schema(REPO_ROOT)
    for model in dashboards():
        text = dashboard_json(model)
        for directory in DASHBOARD_DIRS:
            files[f"{directory}/{model.uid}.json"] = text
    return dict(sorted(files.items()))


def write(root: Path = REPO_ROOT) -> list[str]:
    """Write the files whose text changed, and name them."""
    changed = []
    for relative, text in rendered_files().items():
        target = root / relative
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        changed.append(relative)
    return changed


def main() -> None:
    """Regenerate everything and say what changed."""
    changed = write()
    report = "\n".join(f"  wrote {path}" for path in changed) or "  all generated files up to date"
    sys.stdout.write(report + "\n")


if __name__ == "__main__":
    main()
