# movies: the integration tests run against a real PostgreSQL (the Debian package's
# binaries, started by services/devstack/postgres.py in a temporary directory).

.PHONY: postgres-deps

postgres-deps: ## check (and on Debian install) PostgreSQL for the movies integration tests
	scripts/install-postgres.sh

# `make test` runs CHECKS before pytest; `make test-integration` needs the server too.
CHECKS += postgres-deps
test-integration: postgres-deps

# The hostile schemathesis pass (tests/security/hostile_schema.py) over the whole OpenAPI
# document, with many examples; its figures go into docs/reliability.md, in a section
# `make drills` keeps. `make test` runs the same pass with a few examples.
FUZZ_EXAMPLES ?= 150

.PHONY: fuzz-api

fuzz-api: sync system-deps postgres-deps ## hostile schemathesis pass over the API; figures into docs/reliability.md
	HOSTILE_API_EXAMPLES=$(FUZZ_EXAMPLES) HOSTILE_API_REPORT=$(CURDIR)/docs/reliability.md \
	  $(PYTEST) tests/security/test_schema_fuzz.py -q -s --timeout=7200
