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
# shellcheck source=scripts/lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"
apt_install "promtool and the prometheus server, from the Debian prometheus package" prometheus

command -v promtool >/dev/null 2>&1 || { echo "promtool still missing after install" >&2; exit 1; }
promtool --version 2>&1 | head -n 1
