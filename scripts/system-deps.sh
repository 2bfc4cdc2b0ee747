#!/usr/bin/env bash
# Makes sure the system tools the local stack and the tests use are present.
# Java 17+ and Maven run the Kafka broker. On Debian, missing packages are installed
# with apt-get (as root); elsewhere the script names what is missing and stops.
set -euo pipefail

need_java=0
if ! command -v java >/dev/null 2>&1; then
  need_java=1
elif ! java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then
  need_java=1
fi
missing=()
[ "$need_java" = 1 ] && missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)

[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "missing system packages: ${missing[*]} (Java 17+ and Maven run the local Kafka broker)" >&2
  exit 1
fi
