# The container image, built and run for real with podman (no Docker engine needed):
#   image          builds the image from the Dockerfile; without PYTHON_IMAGE, on a stand-in
#                  python:3.11-slim built once per machine from Debian packages;
#   image-test     runs it against the local Kafka broker, PostgreSQL and SMTP sink:
#                  migrations, movies and mailer under the chart's security context, mails
#                  delivered, one trace across the Kafka hop, SIGTERM drains, and the
#                  image size and start times printed.
# `make test` runs image-test when this host can run containers (test-image below).

IMAGE_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml | head -n 1)
# The chart's default repository is "reelmail"; podman names an unqualified local image
# localhost/reelmail.
IMAGE ?= localhost/reelmail:$(IMAGE_VERSION)
# The base image. Empty: the local stand-in. Users with a registry: python:3.11.14-slim-trixie.
PYTHON_IMAGE ?=
export CONTAINERS_CONF ?= $(CURDIR)/deploy/podman/containers.conf

.PHONY: image image-test test-image podman

podman: ## install podman, runc and debootstrap when missing (Debian, as root)
	scripts/install-podman.sh

image: podman ## build the image with podman (stand-in base unless PYTHON_IMAGE is set)
	@size="$$(scripts/build-image.sh $(IMAGE) $(PYTHON_IMAGE) | tail -n 1)"; \
	  echo "image: $(IMAGE), $$((size / 1000000)) MB"

image-test: sync system-deps $(HELM) image ## run the image against the local broker, database and SMTP sink
	scripts/install-postgres.sh >/dev/null
	REELMAIL_IMAGE=$(IMAGE) $(PYTEST) tests/integration/image -q

# Inside `make test`: a host that cannot run containers is said so in one line and the
# step skipped; with CI=true it fails instead (scripts/container-host.sh says why).
test-image: sync
	@if reason="$$(scripts/container-host.sh $(PYTHON_IMAGE))"; then \
	  $(MAKE) --no-print-directory image-test; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "make test: $$reason" >&2; exit 1; \
	else \
	  echo "make test: image-test skipped: $$reason"; \
	fi
