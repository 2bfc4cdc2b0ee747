#!/usr/bin/env bash
# Builds helm from source at a pinned version into the project's tools directory, the
# way helm's own Makefile builds its releases (same -ldflags), so `helm version` and the
# default Kubernetes version that `helm template` and `helm lint` assume are the real ones.
# Needs only a Go toolchain: the module comes from the Go module proxy that `go` is set
# up with. The build is cached: with the binary already in place this does nothing.
#
#   scripts/install-helm.sh VERSION [TOOLS_DIR]     e.g. scripts/install-helm.sh v3.22.0
#
# The version is pinned once, in mk/deploy.mk (HELM_VERSION). The last line printed is
# the path of the helm binary.
set -euo pipefail

version="${1:-${HELM_VERSION:-}}"
if [ -z "$version" ]; then
  echo "usage: $0 VERSION [TOOLS_DIR]   (the pinned version is HELM_VERSION in mk/deploy.mk)" >&2
  exit 2
fi
tools_dir="${2:-${TOOLS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.tools}}"
dest="$tools_dir/helm-$version"

if [ -x "$dest/helm" ]; then
  echo "$dest/helm"
  exit 0
fi
# shellcheck source=scripts/lib/go-install.sh
source "$(dirname "$0")/lib/go-install.sh"
require_go "helm $version"
module="helm.sh/helm/v3"

# helm reports the Kubernetes version of the client-go it was built with (minor 0.N is
# Kubernetes 1.N); its Makefile passes that in with -X, so do the same.
go_mod="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
client_go="$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v\([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p' "$go_mod")"
read -r cg_major k8s_minor <<<"$client_go"
if [ -z "${k8s_minor:-}" ]; then
  echo "install-helm: cannot read the client-go version from $module@$version's go.mod" >&2
  exit 1
fi
k8s_major=$((cg_major + 1))

ldflags="-s -w -X $module/internal/version.version=$version"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags="$ldflags -X $module/$pkg.k8sVersionMajor=$k8s_major -X $module/$pkg.k8sVersionMinor=$k8s_minor"
done

echo "install-helm: building helm $version from source (a few minutes on two cores)" >&2
go_install_into "$dest" "$ldflags" "$module/cmd/helm@$version"
"$dest/helm" version --short >&2
echo "$dest/helm"
