"""The committed dashboards are the generator's output and carry what an on-call needs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest
import yaml

from grafana.alert_rules import rule_groups
from grafana.catalog import dashboard_json, dashboards
from grafana.dashboard_markers import marking
from grafana.generate import DASHBOARD_DIRS, REPO_ROOT, rendered_files
from grafana.panel_queries import PanelQuery, panel_queries
from grafana.rule_dialects import PlainDialect

if TYPE_CHECKING:
    from pathlib import Path

    from grafana.thresholds import Threshold

DASHBOARD_FILES = sorted(
    path for path in rendered_files() if path.endswith(".json") and "/dashboards/" in path
)
UIDS = ("reelmail-mailer", "reelmail-movies", "reelmail-otp-slo")
REQUIRED_VARIABLES = {"datasource", "namespace", "job", "topic"}
DATASOURCE_UID = "${datasource}"
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")
KNOWN_METRICS = {
    "up",
    "litestar_requests_total",
    "litestar_request_duration_seconds_bucket",
    "litestar_requests_in_progress",
    "movies_otp_codes_issued_total",
    "movies_otp_verifications_total",
    "movies_kafka_publish_total",
    "movies_kafka_publish_duration_seconds_bucket",
    "movies_outbox_pending_messages",
    "movies_outbox_oldest_age_seconds",
    "mailer_messages_received_total",
    "mailer_emails_total",
    "mailer_smtp_send_duration_seconds_bucket",
    "mailer_delivery_latency_seconds_bucket",
    "mailer_delivery_latency_seconds_count",
    "mailer_consumer_lag_messages",
    "mailer_consumer_lag_seconds",
    "mailer_inflight_messages",
    "mailer_dead_letters_total",
    "mailer_duplicates_suppressed_total",
    "mailer_ready",
    "mailer_smtp_connection_failures_total",
    "movies_rate_limited_total",
    "ALERTS",
    "kafka_consumergroup_lag",
    "kafka_consumergroup_members",
    "kafka_topic_partition_current_offset",
    "keda_scaled_object_errors_total",
}


def _dashboard(uid: str) -> dict:
    return json.loads((REPO_ROOT / "grafana" / "dashboards" / f"{uid}.json").read_text())


def _panels(uid: str) -> list[dict]:
    panels = []
    for panel in _dashboard(uid)["panels"]:
        panels += panel.get("panels", []) if panel["type"] == "row" else [panel]
    return panels


@pytest.mark.parametrize("relative", DASHBOARD_FILES)
def test_committed_dashboard_equals_the_generator_output(relative: str):
    committed = REPO_ROOT / relative
    assert committed.exists(), f"{relative} is missing: run `make dashboards`"
    assert committed.read_text(encoding="utf-8") == rendered_files()[relative], (
        f"{relative} drifted from grafana/: run `make dashboards` and commit the result"
    )


def test_every_dashboard_is_committed_to_grafana_and_to_the_chart():
    for directory in DASHBOARD_DIRS:
        found = sorted(p.stem for p in (REPO_ROOT / directory).glob("*.json"))
        assert found == sorted(UIDS)


def test_chart_copies_are_byte_identical():
    for uid in UIDS:
        paths = [REPO_ROOT / directory / f"{uid}.json" for directory in DASHBOARD_DIRS]
        assert paths[0].read_bytes() == paths[1].read_bytes()


def test_generation_is_deterministic_and_canonical():
    first, second = rendered_files(), rendered_files()
    assert first == second
    for relative in DASHBOARD_FILES:
        text = first[relative]
        assert text.endswith("}\n")
        assert (
            json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
            == text
        )


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_has_fixed_uid_and_unique_panel_ids(uid: str):
    board = _dashboard(uid)
    assert board["uid"] == uid
    ids = [panel["id"] for panel in board["panels"]]
    assert ids == list(range(1, len(ids) + 1))


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_has_datasource_namespace_job_and_topic_variables(uid: str):
    variables = {v["name"]: v for v in _dashboard(uid)["templating"]["list"]}
    assert set(variables) >= REQUIRED_VARIABLES
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in REQUIRED_VARIABLES - {"datasource"}:
        assert variables[name]["datasource"]["uid"] == DATASOURCE_UID
        assert variables[name]["current"]["value"]


@pytest.mark.parametrize("uid", UIDS)
def test_every_panel_has_unit_description_and_the_datasource_variable(uid: str):
    for panel in _panels(uid):
        title = panel["title"]
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{title} has no unit"
        assert panel.get("description", "").strip(), f"{title} has no description"
        assert panel["datasource"]["uid"] == DATASOURCE_UID, title
        assert panel["targets"], f"{title} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, title
            assert target["expr"].strip(), title


@pytest.mark.parametrize("uid", UIDS)
def test_panels_fit_the_grid(uid: str):
    for panel in _dashboard(uid)["panels"]:
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


@pytest.mark.parametrize("uid", UIDS)
def test_every_panel_selects_by_the_dashboard_variables(uid: str):
    for panel in _panels(uid):
        exprs = " ".join(target["expr"] for target in panel["targets"])
        assert "$namespace" in exprs or "$exporter_job" in exprs, panel["title"]


def test_latency_panels_ask_for_exemplars():
    exemplar_panels = {
        panel["title"]
        for uid in UIDS
        for panel in _panels(uid)
        if any(target.get("exemplar") for target in panel["targets"])
    }
    assert {"SMTP send latency", "Delivery latency (issued to accepted)"} <= exemplar_panels
    assert "Request duration p95 by route" in exemplar_panels


def test_panels_read_only_the_documented_metrics():
    recorded = {
        rule["record"]
        for group in yaml.safe_load((REPO_ROOT / "deploy/prometheus/alerts.yaml").read_text())[
            "groups"
        ]
        for rule in group["rules"]
        if "record" in rule
    }
    for query in panel_queries():
        used = set(SELECTOR.findall(query.expr))
        assert used <= KNOWN_METRICS | recorded, f"{query.panel_title}: {used - KNOWN_METRICS}"


def test_panel_queries_list_every_target_with_variables_substituted():
    queries = panel_queries()
    targets = sum(len(panel["targets"]) for uid in UIDS for panel in _panels(uid))
    assert len(queries) == targets
    assert {query.dashboard_uid for query in queries} == set(UIDS)
    for query in queries:
        assert "$" not in query.expr, query
        assert "[[" not in query.expr, query
    mailer = [q for q in queries if q.panel_title == "Lag per partition (records)"]
    assert mailer == [
        PanelQuery(
            "reelmail-mailer",
            "Lag per partition (records)",
            "max by (topic, partition) (mailer_consumer_lag_messages"
            '{job=~"mailer", namespace=~".*", topic=~"mail.otp.v1"})',
        )
    ]


def test_panel_queries_take_overrides_for_variables_and_builtins():
    queries = panel_queries(
        {"job": "reelmail-mailer", "namespace": "shop"}, {"__rate_interval": "2m"}
    )
    send_rate = next(q for q in queries if q.panel_title == "Send rate by result")
    assert send_rate.expr == (
        'sum by (result) (rate(mailer_emails_total{job=~"reelmail-mailer", namespace=~"shop"}[2m]))'
    )


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is missing; make alerts-test installs it")
def test_every_panel_query_is_valid_promql(tmp_path: Path):
    rules = [
        {"record": f"panel_query_{index}", "expr": query.expr}
        for index, query in enumerate(panel_queries())
    ]
    rules_file = tmp_path / "panel-queries.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    result = subprocess.run(
        [str(PROMTOOL), "check", "rules", str(rules_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


class _RecordingDialect(PlainDialect):
    """The plain dialect, remembering every threshold the rules compare with."""

    def __init__(self) -> None:
        super().__init__()
        self.used: set[Threshold] = set()

    def threshold(self, threshold: Threshold) -> str:
        self.used.add(threshold)
        return super().threshold(threshold)


def _alert_thresholds() -> set[Threshold]:
    dialect = _RecordingDialect()
    rule_groups(dialect)
    return dialect.used


def _marked_boards():
    with marking() as markers:
        boards = [json.loads(dashboard_json(model)) for model in dashboards()]
    return boards, markers


def test_every_panel_threshold_is_a_threshold_the_alert_rules_compare_with():
    boards, markers = _marked_boards()
    used_by_rules = _alert_thresholds()
    steps = 0
    for board in boards:
        for panel in board["panels"]:
            defaults = panel.get("fieldConfig", {}).get("defaults", {})
            for step in defaults.get("thresholds", {}).get("steps", []):
                if step["value"] is None:
                    continue
                threshold = markers.thresholds.get(step["value"])
                assert threshold is not None, f"{panel['title']}: a step no threshold gave"
                assert threshold in used_by_rules, f"{panel['title']}: {threshold.key} in no rule"
                steps += 1
    assert steps >= 15


def test_panels_that_show_an_alerts_input_link_to_its_runbook():
    linked = {
        link["title"].removeprefix("Runbook: ")
        for uid in UIDS
        for panel in _panels(uid)
        for link in panel.get("links", [])
    }
    alerts = {
        rule.alert
        for group in rule_groups(PlainDialect())
        for rule in group.rules
        if hasattr(rule, "alert")
    }
    assert linked <= alerts
    assert len(linked) >= 12
    for uid in UIDS:
        for panel in _panels(uid):
            for link in panel.get("links", []):
                assert (REPO_ROOT / "docs" / "runbooks" / link["url"].rsplit("/", 1)[1]).is_file()


@pytest.mark.parametrize("uid", UIDS)
def test_each_dashboard_links_to_the_others_and_the_runbooks(uid: str):
    links = _dashboard(uid)["links"]
    targets = {link["url"].split("?")[0] for link in links}
    assert targets >= {f"/d/{other}" for other in UIDS if other != uid}
    assert f"/d/{uid}" not in targets
    for link in links:
        if link["url"].startswith("/d/"):
            assert link["keepTime"] is True
            assert "${namespace:queryparam}" in link["url"]
    assert any(link["title"] == "Runbooks" for link in links)


@pytest.mark.parametrize("uid", UIDS)
def test_each_dashboard_marks_its_services_firing_alerts(uid: str):
    (annotation,) = _dashboard(uid)["annotations"]["list"]
    assert annotation["datasource"]["uid"] == DATASOURCE_UID
    assert 'ALERTS{alertstate="firing"' in annotation["expr"]
    assert 'namespace=~"$namespace"' in annotation["expr"]


def test_latency_histograms_have_heatmaps():
    heatmaps = [panel for panel in _panels("reelmail-mailer") if panel["type"] == "heatmap"]
    exprs = " ".join(target["expr"] for panel in heatmaps for target in panel["targets"])
    assert "mailer_smtp_send_duration_seconds_bucket" in exprs
    assert "mailer_delivery_latency_seconds_bucket" in exprs
    for panel in heatmaps:
        assert panel["targets"][0]["format"] == "heatmap"
        assert panel["options"]["calculate"] is False


def test_rate_limits_and_suppressed_duplicates_have_panels():
    exprs = " ".join(
        target["expr"] for uid in UIDS for panel in _panels(uid) for target in panel["targets"]
    )
    assert "movies_rate_limited_total" in exprs
    assert "mailer_duplicates_suppressed_total" in exprs


@pytest.mark.parametrize("uid", UIDS)
def test_variables_of_the_services_own_series_are_scoped_to_the_namespace(uid: str):
    for variable in _dashboard(uid)["templating"]["list"]:
        if variable["type"] != "query" or variable["name"] in {"namespace", "exporter_job"}:
            continue
        if variable["name"] == "consumergroup":
            continue  # kafka-exporter runs in its own namespace
        assert 'namespace=~"$namespace"' in variable["query"], (uid, variable["name"])


def test_the_chart_can_put_the_release_into_every_preselected_variable():
    boards, markers = _marked_boards()
    for board in boards:
        bound = {
            variable["name"]
            for variable in board["templating"]["list"]
            if variable.get("current", {}).get("value") in markers.settings
        }
        assert {"namespace", "job", "topic"} <= bound, board["uid"]
