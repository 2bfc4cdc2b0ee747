#!/usr/bin/env bash
# Builds Kubernetes' server binaries and etcd from source, from the Go module proxy, into a
# cache under ~/.cache/reelmail/ that `make k8s-check` runs from (and rung 3 of
# deploy/README.md, the one-node cluster, by hand).
#
#   scripts/build-kubernetes.sh [COMPONENT...]    default: kube-apiserver etcd
#   COMPONENT: kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy etcd
#
# The module deploy/kube pins them: k8s.io/kubernetes at one release, and, because that
# module's own go.mod points its k8s.io/* staging modules at a staging/ directory its
# module zip does not carry, replace directives naming the published staging modules of
# the same release instead. etcd is go.etcd.io/etcd/server/v3 at the version that
# release's etcd client is built with (deploy/kube/cmd/etcd).
#
# Each binary is built once per pinned module graph: the cache directory is named after
# the release and a hash of deploy/kube/go.sum. On two shared cores kube-apiserver alone
# takes about 20 minutes (deploy/README.md has the figures), so `make test` never builds
# these; `make k8s-check` does, once, under `nice -n 10` (REELMAIL_BUILD_NICE), since the
# machine is shared. The last line printed is the cache directory.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
module="$root/deploy/kube"
if ! command -v go >/dev/null 2>&1; then
  echo "build-kubernetes: Go is needed to build Kubernetes from source" >&2
  exit 1
fi
release="$(cd "$module" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
pins="$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -c1-12)"
cache="${REELMAIL_CACHE:-$HOME/.cache/reelmail}/kubernetes-$release-$pins"
[ $# -gt 0 ] || set -- kube-apiserver etcd

mkdir -p "$cache"
# One build at a time per cache: a second caller waits, then finds the binaries there.
exec 9>"$cache/.lock"
flock 9

IFS=. read -r major minor _ <<<"${release#v}"
ldflags="-s -w"
for setting in "gitVersion=$release" "gitMajor=$major" "gitMinor=$minor" \
  "gitTreeState=clean" "buildDate=1970-01-01T00:00:00Z"; do
  ldflags="$ldflags -X k8s.io/component-base/version.$setting"
done

package_of() {
  case "$1" in
    etcd) echo ./cmd/etcd ;;
    kube-apiserver | kube-controller-manager | kube-scheduler | kubelet | kube-proxy)
      echo "k8s.io/kubernetes/cmd/$1" ;;
    *) echo "build-kubernetes: unknown component $1" >&2; return 1 ;;
  esac
}

for component in "$@"; do
  package="$(package_of "$component")"
  [ -x "$cache/$component" ] && continue
  echo "build-kubernetes: building $component ($package) from source (minutes)" >&2
  started=$SECONDS
  # Built beside the cache and moved into place, so an interrupted build leaves nothing
  # that the check above would take for a finished binary.
  (cd "$module" && CGO_ENABLED=0 nice -n "${REELMAIL_BUILD_NICE:-10}" go build -trimpath -ldflags "$ldflags" \
    -o "$cache/.$component.partial" "$package")
  mv "$cache/.$component.partial" "$cache/$component"
  echo "build-kubernetes: $component built in $((SECONDS - started)) s" >&2
done
echo "$cache"
