#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, pg_ctl) the movies integration tests
# start are present. They come from the Debian `postgresql` package. On Debian, as root
# (or with password-less sudo), a missing package is installed with apt-get; elsewhere the
# script says what is missing and stops. The package's own cluster is never started: a
# policy-rc.d denies service starts during the install, and the tests run their own
# server in a temporary directory (services/devstack/postgres.py).
set -euo pipefail

have_server() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v pg_ctl >/dev/null 2>&1
}

if have_server; then
  exit 0
fi
# shellcheck source=scripts/lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"
apt_install "PostgreSQL server binaries (initdb, pg_ctl) for the movies tests" postgresql

have_server || { echo "PostgreSQL server binaries still missing after install" >&2; exit 1; }
ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1
