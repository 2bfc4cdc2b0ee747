# Sourced by the scripts that run podman: unless CONTAINERS_CONF is set already (mk/image.mk
# sets it too), podman reads the project's settings, deploy/podman/containers.conf (runc,
# explicit rlimits), so a script run by hand behaves as it does under make.
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/podman/containers.conf}"
