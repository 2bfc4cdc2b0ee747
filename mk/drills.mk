# Reliability drills and the dependency audit (issue 8). Included by the top-level Makefile.
#
#   drills  runs the seven fault drills against real processes (a Kafka broker and a
#           PostgreSQL server of their own, movies and mailer replicas, an SMTP sink),
#           prints one row per drill and `N passed, M failed`, and rewrites
#           docs/reliability.md with the table, the date, the machine and the commit.
#           About 15 minutes on two cores, so it is not in CHECKS; `make test` runs the
#           reduced set in tests/drills instead.
#   audit   pip-audit on the locked dependencies (every group). A finding we accept is
#           listed, with its reason, in docs/security.md and ignored here by its id.

DRILLS_RATE ?= 50
DRILLS_DURATION ?= 60
DRILLS_ARGS ?=
AUDIT_REQUIREMENTS := .run/audit/requirements.txt
# One `--ignore-vuln <id>` per finding accepted in docs/security.md (none so far).
AUDIT_IGNORES :=

.PHONY: drills audit

drills: sync system-deps postgres-deps ## run the reliability drills, rewrite docs/reliability.md
	$(UV) run --frozen python -m drills --rate $(DRILLS_RATE) --duration $(DRILLS_DURATION) \
	  --report docs/reliability.md $(DRILLS_ARGS)

audit: sync ## pip-audit the locked dependencies (accepted findings: docs/security.md)
	@mkdir -p $(dir $(AUDIT_REQUIREMENTS))
	$(UV) export --frozen --quiet --format requirements-txt --no-emit-project --all-groups \
	  --output-file $(AUDIT_REQUIREMENTS)
	$(UV) run --frozen pip-audit --strict --disable-pip --require-hashes \
	  --requirement $(AUDIT_REQUIREMENTS) $(AUDIT_IGNORES)
