# Benchmarks (issue 9): the mailer and movies measured beside the original design, on a
# real broker, Postfix's smtp-sink (stunnel in front of it for TLS, Toxiproxy in front of
# that for B6's 20 ms round trip) and SQLite/PostgreSQL.
#   bench        every figure, median of 3 runs (about 15 minutes): prints the table and
#                writes bench/results/latest.json and bench/results/mailer-profile.txt
#   bench-smoke  every path with tiny counts (under 2 minutes); asserts nothing about speed
# tests/bench runs the smoke plan inside `make test`, so the harness cannot rot.

.PHONY: bench bench-smoke bench-tools

bench-tools: ## install smtp-sink (Debian postfix) and stunnel if missing, build Toxiproxy
	scripts/install-bench-tools.sh
	scripts/install-toxiproxy.sh >/dev/null
	scripts/install-postgres.sh >/dev/null

bench: sync system-deps bench-tools ## run B1-B6 (about 25 min): table + bench/results/latest.json
	$(UV) run --frozen python -m bench

bench-smoke: sync system-deps bench-tools ## every benchmark path with tiny counts (< 2 min)
	$(UV) run --frozen python -m bench --smoke
