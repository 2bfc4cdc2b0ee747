# Sourced by scripts/install-*.sh that build a pinned tool from source with `go install`
# (the module comes from the Go module proxy `go` is set up with): the build goes into a
# scratch directory that replaces DEST only once every binary is written, so an
# interrupted build never leaves a half-written binary that a cache check accepts.
#
#   require_go WHAT                          fail, saying so, without a Go toolchain
#   go_install_into DEST LDFLAGS PACKAGE@VERSION...

require_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "$(basename "$0"): Go is needed to build $1 from source" >&2
    return 1
  fi
}

go_install_into() {
  local dest="$1" ldflags="$2" staging
  shift 2
  require_go "$*"
  mkdir -p "$(dirname "$dest")"
  staging="$(mktemp -d "$dest.build.XXXXXX")"
  if ! GOBIN="$staging" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod" \
    go install -trimpath -ldflags "$ldflags" "$@"; then
    rm -rf "$staging"
    return 1
  fi
  rm -rf "$dest"
  mv "$staging" "$dest"
}
