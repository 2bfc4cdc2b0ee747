# Dashboards and alert rules (issue 6): generated from grafana/, proven by promtool.
# Included by the top-level Makefile; `make test` runs the checks appended to CHECKS.

.PHONY: dashboards alerts-test promtool

dashboards: sync ## regenerate the dashboard JSON and the Prometheus and Helm rules files
	$(UV) run --frozen python -m grafana.generate

promtool: ## install promtool (and Prometheus) from Debian if missing
	scripts/install-prometheus.sh

alerts-test: promtool ## promtool check and unit-test the alert rules (installs promtool if missing)
	promtool check rules deploy/prometheus/alerts.yaml
	promtool test rules deploy/prometheus/tests/*.yaml

CHECKS += alerts-test
