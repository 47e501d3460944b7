#!/usr/bin/env bash
# The whole test suite: formatting, lints, docs, the no_std build, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p picoformer --no-default-features --target thumbv7em-none-eabihf -- -D warnings
# The engine is no_std and allocation-free: it must build for a bare Cortex-M4F.
cargo build -p picoformer --no-default-features --target thumbv7em-none-eabihf
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
