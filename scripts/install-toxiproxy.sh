#!/usr/bin/env bash
# Builds Toxiproxy (server and CLI) from source at a pinned version into the user cache,
# for B6: the kernel here has no netem qdisc, so Toxiproxy's latency toxic is what puts a
# relay 20 ms away on loopback. Needs only a Go toolchain. Cached: with both binaries in
# place this does nothing. The binaries live outside the work tree, never in git.
#
#   scripts/install-toxiproxy.sh [VERSION]      default v2.5.0 (the pin: only here)
#
# The last line printed is the directory holding toxiproxy-server and toxiproxy-cli.
set -euo pipefail

version="${1:-v2.5.0}"
dest="${REELMAIL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reelmail}/toxiproxy-$version"

if [ -x "$dest/toxiproxy-server" ] && [ -x "$dest/toxiproxy-cli" ]; then
  echo "$dest"
  exit 0
fi
# shellcheck source=scripts/lib/go-install.sh
source "$(dirname "$0")/lib/go-install.sh"
module="github.com/Shopify/toxiproxy/v2"
echo "install-toxiproxy: building Toxiproxy $version from source" >&2
go_install_into "$dest" "-s -w -X $module.Version=${version#v}" \
  "$module/cmd/server@$version" "$module/cmd/cli@$version"
# Renamed last: until both names exist, the cache check above builds again.
mv "$dest/cli" "$dest/toxiproxy-cli"
mv "$dest/server" "$dest/toxiproxy-server"
"$dest/toxiproxy-server" -version >&2
echo "$dest"
