#!/usr/bin/env bash
# Starts the services the tests need when they are not already running (see docs/operations.md).
set -uo pipefail

if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
if command -v redis-server >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi
# Browser tests drive Debian's Chromium (never a downloaded build); Arabic text needs the Noto fonts.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -i "Noto Sans Arabic" >/dev/null; then
  echo "installing chromium and fonts"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null) ||
    echo "could not install chromium"
fi
# Deployment files are checked offline with the real tools' validators (test/deploy): docker-compose (config -q),
# promtool (Debian's prometheus package) and yamllint. Installed only when missing; no Docker engine is needed.
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v yamllint >/dev/null 2>&1 || missing+=(yamllint)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null) ||
    echo "could not install ${missing[*]}"
fi
exit 0
