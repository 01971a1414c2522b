#!/usr/bin/env bash
# Every test of occd: formatting, lints, unit and integration tests.
# Run through `make test`, which installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== OCC modules: pyang lint and tree diagrams"
scripts/check-yang.sh
echo "== cargo test (every commit the incremental check accepts is also validated in full)"
OCCD_VERIFY_INCREMENTAL=1 cargo test --workspace
