# reelmail — every entry point people and CI use. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/uv-$(UV_VERSION)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
PYTEST := $(UV) run --frozen pytest

# Area makefiles (dashboards, alerts, deploy checks, drills, benchmarks) add their targets
# here, and append to CHECKS the static checks `make test` runs before the test suite.
CHECKS :=
-include mk/*.mk

.PHONY: help sync lint fmt test test-fast test-integration run system-deps clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(UV):
	@echo "bootstrapping uv $(UV_VERSION) into $(TOOLS)"
	python3 -m venv $(TOOLS)/uv-$(UV_VERSION)
	$(TOOLS)/uv-$(UV_VERSION)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

sync: $(UV) ## install the locked dependencies into .venv
	$(UV) sync --frozen --quiet

system-deps: ## check (and on Debian install) the system tools the tests need
	scripts/system-deps.sh

lint: sync ## ruff (lint + format) and mypy --strict
	$(UV) run --frozen ruff check services grafana drills bench tests
	$(UV) run --frozen ruff format --check services grafana drills bench tests
	$(UV) run --frozen mypy

fmt: sync ## apply ruff's fixes and formatting
	$(UV) run --frozen ruff check --fix services grafana drills bench tests
	$(UV) run --frozen ruff format services grafana drills bench tests

test-fast: sync ## unit tests only (no broker, no processes): the inner loop
	$(PYTEST) tests/unit -q

test-integration: sync system-deps ## integration tests only (real broker, real SMTP)
	$(PYTEST) tests/integration

# tests/deploy already ran inside helm-check and compose-check (CHECKS); the image tests
# run against the image built by test-image (mk/image.mk), when this host can run it.
test: sync system-deps lint $(CHECKS) ## everything CI runs: lint, static checks, all tests
	$(PYTEST) tests --ignore=tests/deploy --ignore=tests/integration/image
	$(MAKE) --no-print-directory test-image

# GNU make passes SIGTERM on to a recipe but not SIGINT (it expects the terminal to have
# sent that to the whole process group), and waits for the recipe meanwhile: a SIGINT to
# make's PID alone would stop nothing. So the stack is not a recipe: $(shell) starts it
# as make's own child when the recipe is expanded. make then exits at once on SIGINT or
# SIGTERM, and the stack, seeing its parent gone, stops every part (devstack.local_stack).
# Its output goes to stderr, since $(shell) captures stdout.
run: sync system-deps ## the whole system on this machine; Ctrl-C stops it
	@$(shell exec $(CURDIR)/.venv/bin/python -m devstack >&2)exit $(.SHELLSTATUS)

clean: ## remove the local stack's state and caches in the work tree
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache
