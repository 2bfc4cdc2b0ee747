# movies: the integration tests run against a real PostgreSQL (the Debian package's
# binaries, started by services/devstack/postgres.py in a temporary directory).

.PHONY: postgres-deps

postgres-deps: ## check (and on Debian install) PostgreSQL for the movies integration tests
	scripts/install-postgres.sh

# `make test` runs CHECKS before pytest; `make test-integration` needs the server too.
CHECKS += postgres-deps
test-integration: postgres-deps
