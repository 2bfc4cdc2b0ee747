# Reliability drills and the dependency audit (issue 8). Included by the top-level Makefile.
#
#   drills  runs the ten fault drills against real processes (a Kafka broker, then a
#           three-node Kafka cluster, and a PostgreSQL server of their own, movies and
#           mailer replicas, an SMTP sink), prints one row per drill and
#           `N passed, M failed`, and rewrites docs/reliability.md with the table, the
#           date, the machine and the commit. About 25 minutes on two cores, so it is not
#           in CHECKS; `make test` runs the reduced set in tests/drills instead.
#   drills-cluster  only the cluster drills (8 to 10, about 10 minutes); prints the table
#           and leaves docs/reliability.md alone, whose table is the whole suite's.
#   audit   pip-audit on the locked dependencies (every group). A finding we accept is
#           listed, with its reason, in docs/security.md and ignored here by its id.

DRILLS_RATE ?= 50
DRILLS_DURATION ?= 60
DRILLS_ARGS ?=
AUDIT_REQUIREMENTS := .run/audit/requirements.txt
# One `--ignore-vuln <id>` per finding accepted in docs/security.md (none so far).
AUDIT_IGNORES :=

CLUSTER_DRILLS := 8,9,10

.PHONY: drills drills-cluster audit

drills: sync system-deps postgres-deps ## run the reliability drills, rewrite docs/reliability.md
	$(UV) run --frozen python -m drills --rate $(DRILLS_RATE) --duration $(DRILLS_DURATION) \
	  --report docs/reliability.md $(DRILLS_ARGS)

drills-cluster: sync system-deps postgres-deps ## only the 3-broker cluster drills (8-10), table printed
	$(UV) run --frozen python -m drills --rate $(DRILLS_RATE) --duration $(DRILLS_DURATION) \
	  --drills $(CLUSTER_DRILLS) $(DRILLS_ARGS)

audit: sync ## pip-audit the locked dependencies (accepted findings: docs/security.md)
	@mkdir -p $(dir $(AUDIT_REQUIREMENTS))
	$(UV) export --frozen --quiet --format requirements-txt --no-emit-project --all-groups \
	  --output-file $(AUDIT_REQUIREMENTS)
	$(UV) run --frozen pip-audit --strict --disable-pip --require-hashes \
	  --requirement $(AUDIT_REQUIREMENTS) $(AUDIT_IGNORES)
