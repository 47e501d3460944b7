#!/usr/bin/env bash
# The whole test suite: formatting, lints, docs, the no_std build, every cargo test, then
# each part's suite in tools/test.d/ (firmware under QEMU, C programs, ...), in name order.
# Ends with one closing line summing every suite: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p picoformer --no-default-features --target thumbv7em-none-eabihf -- -D warnings
# The engine is no_std and allocation-free: it must build for a bare Cortex-M4F.
cargo build -p picoformer --no-default-features --target thumbv7em-none-eabihf
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
cargo test --workspace 2>&1 | tee -a "$log"
for part in tools/test.d/*.sh; do
    [ -e "$part" ] || continue
    echo "== $part"
    bash "$part" 2>&1 | tee -a "$log"
done

# cargo prints "test result: ok. P passed; F failed; ..." per binary; the other suites
# print a plain "P passed, F failed" line each.
awk '/^test result:/ { p += $4; f += $6; next }
     /^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3 }
     END { printf "tests: %d passed, %d failed\n", p, f; exit (f > 0) }' "$log"
