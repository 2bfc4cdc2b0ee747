# Deployment checks, without a cluster or a Docker engine:
#   helm-check     builds helm from source (pinned, cached), lints and renders the chart
#                  for the default values and every ci/*-values.yaml, then runs the chart
#                  tests (Kubernetes and CRD schemas, security and probe policies, rules
#                  and dashboards equal to their sources);
#   compose-check  validates the compose stack and the Dockerfile.
# `make test` runs both (CHECKS).

# helm is built with `go install`, never downloaded as a binary. Pinned here, only here.
HELM_VERSION := v3.22.0
HELM := $(TOOLS)/helm-$(HELM_VERSION)/helm
CHART := deploy/helm/reelmail
CHART_SCENARIOS := $(sort $(wildcard $(CHART)/ci/*-values.yaml))
# Offline, the defaults would make up the sign-in secrets on every render, so the chart
# refuses; the default-values check names a Secret that holds them.
OFFLINE_DEFAULTS := --set auth.existingSecret=reelmail-auth

# The deploy tests render the chart with this helm (they fail, saying so, without it).
export REELMAIL_HELM := $(HELM)

CHECKS += helm-check compose-check

.PHONY: helm helm-check compose-check

$(HELM):
	scripts/install-helm.sh $(HELM_VERSION) $(TOOLS)

helm: $(HELM) ## build helm from source at the pinned version into .tools/ (cached)

# The two-release alert test runs the chart's rules in promtool, so it is a prerequisite.
helm-check: sync $(HELM) promtool ## lint + render the Helm chart for every values scenario, then its tests
	@for values in "" $(CHART_SCENARIOS); do \
	  echo "helm lint --strict && helm template: $${values:-default values}"; \
	  args="$${values:+--values $$values}"; args="$${args:-$(OFFLINE_DEFAULTS)}"; \
	  $(HELM) lint --strict --quiet $(CHART) $$args || exit 1; \
	  $(HELM) template reelmail $(CHART) $$args >/dev/null || exit 1; \
	done
	$(PYTEST) tests/deploy/test_chart_schemas.py tests/deploy/test_chart_policies.py \
	  tests/deploy/test_chart_monitoring.py tests/deploy/test_chart_values.py \
	  tests/deploy/test_chart_trusted_proxies.py tests/deploy/test_chart_helm_test.py \
	  tests/deploy/test_chart_alert_rules.py -q

compose-check: sync ## validate the compose stack and the Dockerfile statically (no Docker)
	scripts/install-prometheus.sh  # promtool checks the compose Prometheus config
	$(PYTEST) tests/deploy/test_compose.py tests/deploy/test_dockerfile.py -q

.PHONY: chart-readme
chart-readme: sync ## rewrite the chart README's values table from values.yaml's comments
	$(UV) run --frozen python tests/deploy/values_table.py
