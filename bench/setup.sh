#!/usr/bin/env bash
# Installs what the OMB-style suites (latency, throughput, replicated, backlog, all) compare Tide
# with, plus fio for the sequential-write ceiling. Debian packages; the services are not started
# here (the harness starts private instances on loopback with temporary folders).
set -euo pipefail
packages=(nats-server redis-server rabbitmq-server fio)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "bench setup: ${packages[*]} already installed"
  exit 0
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
"${sudo[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
echo "bench setup: installed ${missing[*]}"
