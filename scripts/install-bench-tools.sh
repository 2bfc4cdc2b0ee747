#!/usr/bin/env bash
# Makes sure the tools `make bench` drives are present: Postfix's `smtp-sink` (Debian
# package `postfix`) as the SMTP server that only counts mails, and `stunnel` (Debian
# package `stunnel4`) in front of it for implicit TLS. On Debian, as root (or with
# password-less sudo), missing packages are installed with apt-get; elsewhere the script
# says what is missing and stops.
#
# Postfix itself is never configured nor started: debconf is preseeded with "No
# configuration" and a policy-rc.d denies service starts during the install. The
# benchmarks run smtp-sink and stunnel themselves, on loopback ports, as any user.
set -euo pipefail

have_smtp_sink() {
  command -v smtp-sink >/dev/null 2>&1 || [ -x /usr/sbin/smtp-sink ]
}

have_stunnel() {
  command -v stunnel >/dev/null 2>&1 || command -v stunnel4 >/dev/null 2>&1
}

missing=()
have_smtp_sink || missing+=(postfix)
have_stunnel || missing+=(stunnel4)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${missing[*]} (smtp-sink from Postfix, and stunnel): install them and re-run" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "missing: ${missing[*]}: run 'apt-get install ${missing[*]}' as root and re-run" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
lock_wait=(-o DPkg::Lock::Timeout=120)

# Another engineer's apt-get (or unattended-upgrades) may hold the dpkg or lists lock;
# apt waits for the dpkg lock itself, and the loop retries whatever else failed.
retry() {
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

remove_policy() {
  "${as_root[@]}" rm -f "$policy"
}

own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# installed by reelmail scripts/install-bench-tools.sh\nexit 101\n' \
    | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 755 "$policy"
  own_policy=1
  trap remove_policy EXIT
fi

if [[ " ${missing[*]} " == *" postfix "* ]]; then
  # Without this answer postfix's postinst asks what kind of mail system to set up.
  echo "postfix postfix/main_mailer_type select No configuration" \
    | "${as_root[@]}" debconf-set-selections
fi

echo "installing: ${missing[*]} (smtp-sink and stunnel for make bench)"
retry "${as_root[@]}" apt-get "${lock_wait[@]}" update -qq
retry "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" \
  install -y -qq --no-install-recommends "${missing[@]}"
if [ "$own_policy" = 1 ]; then
  remove_policy
  trap - EXIT
fi

have_smtp_sink || { echo "smtp-sink still missing after installing postfix" >&2; exit 1; }
have_stunnel || { echo "stunnel still missing after installing stunnel4" >&2; exit 1; }
