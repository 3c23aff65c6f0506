#!/usr/bin/env bash
# Runs every test of the workspace, installing what the tests need first (chopsticks for the
# chain tests). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-chopsticks.sh >/dev/null
# wgpu's Vulkan loader (lavapipe in CI) wants a runtime dir; containers often lack one.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/sn17-xdg-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi
cargo test --workspace "$@"
