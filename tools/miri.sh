#!/usr/bin/env bash
# Miri on the scalar path (not part of CI's default path: about 5 minutes on 2 cores):
# the kernels' and the engine's unit tests, and tests/miri.rs, which drives every Rust
# and C entry point on tiny models with valid and broken arguments. Under Miri the
# kernel dispatcher always picks the scalar reference (Miri runs no SIMD intrinsics).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup component list --toolchain nightly --installed | grep -q '^miri' ||
    rustup component add --toolchain nightly miri rust-src
cargo +nightly miri test -q -p picoformer-kernels --lib
cargo +nightly miri test -q -p picoformer --lib
cargo +nightly miri test -q -p picoformer-cli --test miri
