# Sourced by scripts/install-*.sh: install missing Debian packages the way every one of
# them needs it. As root (or with password-less sudo) on a machine with apt-get, the
# packages are installed without starting any service they ship: a policy-rc.d denies
# service starts for the duration (so a machine without systemd, a container or CI,
# behaves like one with it). Another engineer's apt-get or unattended-upgrades may hold
# the dpkg or lists lock: apt waits for the dpkg lock itself, and each step is retried.
# Elsewhere it says what is missing and returns 1.
#
#   apt_install "WHAT FOR" PACKAGE...
#   APT_DEBCONF="pkg question type value"   optional debconf answers, set before installing

_apt_policy=/usr/sbin/policy-rc.d
_apt_as_root=()
_apt_own_policy=0

_apt_retry() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if "$@"; then
      return 0
    fi
    echo "attempt $attempt of '$*' failed; retrying in 10 s" >&2
    sleep 10
  done
  return 1
}

_apt_release_policy() {
  if [ "$_apt_own_policy" = 1 ]; then
    "${_apt_as_root[@]}" rm -f "$_apt_policy"
    _apt_own_policy=0
  fi
}

_apt_deny_service_starts() {
  [ -e "$_apt_policy" ] && return 0
  printf '#!/bin/sh\n# installed by reelmail scripts/lib/apt-install.sh\nexit 101\n' \
    | "${_apt_as_root[@]}" tee "$_apt_policy" >/dev/null
  "${_apt_as_root[@]}" chmod 755 "$_apt_policy"
  _apt_own_policy=1
  trap _apt_release_policy EXIT
}

apt_install() {
  local purpose=$1
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing: $* ($purpose): install it and re-run" >&2
    return 1
  fi
  if [ "$(id -u)" = 0 ]; then
    _apt_as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    _apt_as_root=(sudo)
  else
    echo "missing: $* ($purpose): run 'apt-get install $*' as root and re-run" >&2
    return 1
  fi
  local lock_wait=(-o DPkg::Lock::Timeout=120)
  _apt_deny_service_starts
  if [ -n "${APT_DEBCONF:-}" ]; then
    printf '%s\n' "$APT_DEBCONF" | "${_apt_as_root[@]}" debconf-set-selections
  fi
  echo "installing: $* ($purpose)"
  _apt_retry "${_apt_as_root[@]}" apt-get "${lock_wait[@]}" update -qq
  _apt_retry "${_apt_as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" \
    install -y -qq --no-install-recommends "$@"
  _apt_release_policy
  trap - EXIT
}
