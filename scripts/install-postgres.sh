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
if ! command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server binaries are missing: install PostgreSQL (initdb, pg_ctl) and re-run" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "PostgreSQL is missing: run 'apt-get install postgresql' as root and re-run" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
lock_wait=(-o DPkg::Lock::Timeout=120)

# Another engineer's apt-get (or unattended-upgrades) may hold the dpkg or lists lock;
# apt waits for the dpkg lock itself, and the loop retries whatever else failed.
retry() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if "$@"; then
      return 0
    fi
    echo "attempt $attempt of '$*' failed; retrying in 10 s" >&2
    sleep 10
  done
  return 1
}

remove_policy() {
  "${as_root[@]}" rm -f "$policy"
}

own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# installed by reelmail scripts/install-postgres.sh\nexit 101\n' \
    | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 755 "$policy"
  own_policy=1
  trap remove_policy EXIT
fi

echo "installing the Debian postgresql package (server binaries for the movies tests)"
retry "${as_root[@]}" apt-get "${lock_wait[@]}" update -qq
retry "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" \
  install -y -qq --no-install-recommends postgresql
if [ "$own_policy" = 1 ]; then
  remove_policy
  trap - EXIT
fi

have_server || { echo "PostgreSQL server binaries still missing after install" >&2; exit 1; }
ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1
