#!/usr/bin/env bash
# Makes sure promtool (and the prometheus server the live alert test starts) is present.
# Both come from the Debian `prometheus` package. On Debian, as root (or with password-less
# sudo), a missing package is installed with apt-get; elsewhere the script says what is
# missing and stops. The package's service is never started: a policy-rc.d denies it for
# the duration of the install, so a machine without systemd (a container, CI) and one with
# it behave the same, and port 9090 stays free for the tests' own Prometheus.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "promtool is missing: install Prometheus (it ships promtool) and re-run" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "promtool is missing: run 'apt-get install prometheus' as root and re-run" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
lock_wait=(-o DPkg::Lock::Timeout=120)

# Another apt or dpkg run (an engineer's, unattended-upgrades) may hold the lock for a
# while; apt waits for the dpkg lock itself, the loop covers the lists lock and the rest.
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
  printf '#!/bin/sh\n# installed by reelmail scripts/install-prometheus.sh\nexit 101\n' \
    | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 755 "$policy"
  own_policy=1
  trap remove_policy EXIT
fi

echo "installing the Debian prometheus package (for promtool)"
retry "${as_root[@]}" apt-get "${lock_wait[@]}" update -qq
retry "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" \
  install -y -qq --no-install-recommends prometheus
[ "$own_policy" = 1 ] && remove_policy && trap - EXIT

command -v promtool >/dev/null 2>&1 || { echo "promtool still missing after install" >&2; exit 1; }
promtool --version 2>&1 | head -n 1
