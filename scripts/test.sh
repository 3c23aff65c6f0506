#!/usr/bin/env bash
# Runs every test of the workspace, installing what the tests need first (chopsticks for the
# chain tests). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-chopsticks.sh >/dev/null
cargo test --workspace "$@"
