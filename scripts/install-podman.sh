#!/usr/bin/env bash
# Makes sure podman, runc and debootstrap are present: `make image` builds the image (and
# its stand-in base, scripts/build-python-standin.sh) with them and `make image-test`
# runs it. On Debian, as root (or with password-less sudo), missing packages are
# installed with apt-get; elsewhere the script says what is missing and stops.
#
# runc, not podman's default crun: crun fails on hosts with hybrid (v1) cgroups, and runc
# runs on both kinds. podman's own services are never started (policy-rc.d during the
# install); podman runs daemonless.
set -euo pipefail

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
[ ${#missing[@]} -eq 0 ] && exit 0

# shellcheck source=scripts/lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"
apt_install "podman and runc build and run the image, debootstrap its stand-in base" "${missing[@]}"
podman --version
