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
cargo test --workspace
