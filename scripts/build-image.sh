#!/usr/bin/env bash
# Builds the reelmail image with podman from the repository's Dockerfile, as it is.
#
#   scripts/build-image.sh IMAGE [BASE]     e.g. scripts/build-image.sh localhost/reelmail:0.1.0
#
# BASE is the PYTHON_IMAGE build argument. Without it the script builds (once per
# machine) a stand-in for python:3.11-slim from Debian packages
# (scripts/build-python-standin.sh), for hosts that reach no container registry.
#
# Two podman builds, so that nothing of this host ends up in the image:
#   1. the build stage alone, with the host's network and, when the host names its own CA
#      bundle (PIP_CERT or SSL_CERT_FILE, as behind a TLS-inspecting proxy), that bundle
#      bind-mounted over the base's and pip and uv told to use it. Bind mounts are not
#      part of any layer, and this stage is never shipped;
#   2. the whole Dockerfile with no network at all: the build stage comes from the layer
#      cache of step 1, and the runtime stage needs no network.
# podman's layer cache keys each step on its instruction and inputs, so an unchanged
# uv.lock reuses the dependency layer and a code change rebuilds only the project layer.
# The last line printed is the image size in bytes.
set -euo pipefail

image="${1:?usage: $0 IMAGE [BASE]}"
base="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib/podman-settings.sh
source scripts/lib/podman-settings.sh

[ -n "$base" ] || base="$(scripts/build-python-standin.sh | tail -n 1)"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
created="$(git log -1 --format=%cI 2>/dev/null || echo unknown)"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)"
args=(--build-arg "PYTHON_IMAGE=$base" --build-arg "VERSION=$version"
  --build-arg "REVISION=$revision" --build-arg "CREATED=$created")

settings=""
host_trust=()
bundle="${PIP_CERT:-${SSL_CERT_FILE:-}}"
if [ -n "$bundle" ] && [ -f "$bundle" ]; then
  settings="$(mktemp -d)"
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$settings/pip.conf"
  printf 'system-certs = true\n' >"$settings/uv.toml"
  host_trust=(-v "$bundle:/etc/ssl/certs/ca-certificates.crt:ro"
    -v "$settings/pip.conf:/etc/pip.conf:ro" -v "$settings/uv.toml:/etc/uv/uv.toml:ro")
fi

log="$(mktemp)"
trap 'rm -rf "$log" ${settings:+"$settings"}' EXIT
build() {
  podman build "$@" >>"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "build-image: podman build failed" >&2; exit 1; }
}
previous="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
echo "build-image: $image from $base" >&2
build --network host "${host_trust[@]}" "${args[@]}" --target build .
build --network none "${args[@]}" --tag "$image" .
current="$(podman image inspect --format '{{.Id}}' "$image")"
# The image this tag named before is garbage now; its layers are the big ones.
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
podman image inspect --format '{{.Size}}' "$image"
