#!/usr/bin/env bash
# Installs chopsticks 1.5.1 (the local Subtensor runtime host used by the chain tests) into
# $SN17_CACHE/chopsticks unless it is already there. Idempotent; prints the binary's path.
set -euo pipefail
version=1.5.1
cache="${SN17_CACHE:-$HOME/.cache/sn17}"
dir="$cache/chopsticks"
bin="$dir/node_modules/.bin/chopsticks"
if [ -x "$bin" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/@acala-network/chopsticks/package.json" 2>/dev/null; then
  echo "$bin"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is required to install chopsticks" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{"name":"sn17-chopsticks","private":true}' > package.json
echo "installing @acala-network/chopsticks@$version into $dir (first time only)" >&2
npm install --no-audit --no-fund --loglevel=error "@acala-network/chopsticks@$version" >&2
echo "$bin"
