#!/usr/bin/env bash
# Builds a local stand-in for the upstream `python:3.11-slim` base image, from Debian
# packages alone, for hosts that reach no container registry. Users build with the real
# base; `make image` uses this one only when PYTHON_IMAGE is not given.
#
#   scripts/build-python-standin.sh        prints the stand-in's tag (last line)
#
# What it is: `debootstrap --variant=minbase` of Debian 12 (bookworm, the release whose
# python3.11 package is Python 3.11) with python3.11, pip, ca-certificates, netbase and
# tzdata, then the upstream image's conventions: `python3.11`, `python3`, `python` and
# `pip` on /usr/local/bin, no EXTERNALLY-MANAGED marker (pip installs system-wide, as
# upstream), no documentation, man pages or apt lists, LANG=C.UTF-8, CMD ["python3"].
# How it differs from upstream is listed in deploy/README.md.
#
# Built once per machine: the root filesystem is kept as a tarball under
# ~/.cache/reelmail/ and imported into podman's storage when the image is missing. The
# tag carries a hash of this script, so changing the recipe builds a new stand-in.
# Needs root (debootstrap), debootstrap and podman (scripts/install-podman.sh).
set -euo pipefail
# shellcheck source=scripts/lib/podman-settings.sh
source "$(dirname "$0")/lib/podman-settings.sh"

suite=bookworm
packages=python3.11,python3-pip,ca-certificates,netbase,tzdata
cache_dir="${REELMAIL_CACHE:-$HOME/.cache/reelmail}/python-standin"

# The mirror this host's apt uses for the suite, so the stand-in comes from where the
# machine's own packages come from; debootstrap's default mirror otherwise.
host_mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -e "$file" ] || continue
    awk -v suite="$suite" '
      /^URIs:/ {uri = $2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == suite) found = uri}
      /^$/ {uri = ""} END {if (found) print found}' "$file"
  done | head -n 1
  awk -v suite="$suite" '$1 == "deb" && $3 == suite {print $2; exit}' \
    /etc/apt/sources.list 2>/dev/null || true
}

# The upstream image's layout on top of Debian's packages, inside the new root.
shape_rootfs() {
  local root=$1
  rm -f "$root/usr/lib/python3.11/EXTERNALLY-MANAGED"
  for name in python3.11 python3 python; do ln -sf /usr/bin/python3.11 "$root/usr/local/bin/$name"; done
  for name in pip pip3; do ln -sf /usr/bin/pip3 "$root/usr/local/bin/$name"; done
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/var/log/*
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
}

build_tarball() {
  local work mirror
  work="$(mktemp -d /var/tmp/reelmail-standin.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  mirror="$(host_mirror | head -n 1)"
  echo "build-python-standin: debootstrap $suite ${mirror:-(default mirror)} (a few minutes)" >&2
  # shellcheck disable=SC2086 -- an empty mirror must vanish, not become an argument
  debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" $mirror \
    >"$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  shape_rootfs "$work/root"
  mkdir -p "$cache_dir"
  tar --numeric-owner -C "$work/root" -cf "$work/root.tar" .
  mv "$work/root.tar" "$tarball"
  rm -rf "$work"
  trap - EXIT
}

# The image configuration of the upstream image, less what only its own build uses.
config=(--change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]')
# Only what makes the image what it is names it, so editing a comment rebuilds nothing.
recipe="$(printf '%s\n' "$suite" "$packages" "${config[@]}" "$(declare -f shape_rootfs)" \
  | sha256sum | cut -c1-12)"
tag="localhost/reelmail/python-standin:3.11-$suite-$recipe"
tarball="$cache_dir/$suite-$recipe.tar"

if podman image exists "$tag"; then
  echo "$tag"
  exit 0
fi
[ -f "$tarball" ] || build_tarball
# awk reads to the end: an early exit would leave tar writing to a closed pipe.
version="$(tar -xOf "$tarball" ./var/lib/dpkg/status \
  | awk '/^Package: python3.11-minimal$/ {p = 1} p && /^Version:/ && !v {v = $2} END {print v}')"
podman import "${config[@]}" --change "ENV PYTHON_VERSION=${version%%-*}" \
  --change "LABEL org.opencontainers.image.description=\"Stand-in for python:3.11-slim: Debian $suite python3.11 $version\"" \
  --quiet "$tarball" "$tag" >/dev/null
# Stand-ins of earlier recipes are of no further use (an image built on one keeps it).
find "$cache_dir" -name "$suite-*.tar" -not -name "${tarball##*/}" -delete
podman images --format '{{.Repository}}:{{.Tag}}' localhost/reelmail/python-standin \
  | grep -vxF "$tag" | xargs -r podman rmi >/dev/null 2>&1 || true
echo "$tag"
