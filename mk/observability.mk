# Dashboards and alert rules (issue 6): generated from grafana/, proven by promtool.
# Included by the top-level Makefile; `make test` runs the checks appended to CHECKS.

.PHONY: dashboards alerts-test

dashboards: sync ## regenerate the dashboard JSON and the Prometheus and Helm rules files
	$(UV) run --frozen python -m grafana.generate

alerts-test: ## promtool check and unit-test the alert rules (installs promtool if missing)
	scripts/install-prometheus.sh
	promtool check rules deploy/prometheus/alerts.yaml
	promtool test rules deploy/prometheus/tests/*.yaml

CHECKS += alerts-test
