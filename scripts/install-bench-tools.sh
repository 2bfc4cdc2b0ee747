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

# shellcheck source=scripts/lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"
if [[ " ${missing[*]} " == *" postfix "* ]]; then
  # Without this answer postfix's postinst asks what kind of mail system to set up.
  APT_DEBCONF="postfix postfix/main_mailer_type select No configuration"
fi
apt_install "smtp-sink from Postfix and stunnel, for make bench" "${missing[@]}"

have_smtp_sink || { echo "smtp-sink still missing after installing postfix" >&2; exit 1; }
have_stunnel || { echo "stunnel still missing after installing stunnel4" >&2; exit 1; }
