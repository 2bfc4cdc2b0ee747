#!/usr/bin/env bash
# Can this host build and run the image? Installs what is missing where it can (podman,
# runc, debootstrap; the stand-in base), then starts one container from the base image.
#
#   scripts/container-host.sh [BASE]    exit 0: yes; exit 1: no, and stdout says why in one sentence
#
# `make test` runs image-test when the answer is yes; with CI=true a no fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/podman-settings.sh
source "$(dirname "$0")/lib/podman-settings.sh"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
say_no() {
  echo "$1 ($(grep -v '^\s*$' "$log" | tail -n 1))"
  exit 1
}

scripts/install-podman.sh >"$log" 2>&1 \
  || say_no "podman, runc or debootstrap is missing and cannot be installed here"
podman info >"$log" 2>&1 || say_no "podman is installed but does not work on this host"
base="${1:-}"
if [ -z "$base" ]; then
  base="$(scripts/build-python-standin.sh 2>"$log" | tail -n 1)" \
    || say_no "the stand-in base image cannot be built here (debootstrap needs root and Debian's packages)"
fi
podman run --rm --network none "$base" true >"$log" 2>&1 \
  || say_no "podman cannot start a container on this host"
