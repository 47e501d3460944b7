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
# The engine without a SIMD kernel set (Cortex-M0, RV32IMAC: scalar only) and with one.
for target in thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imac-unknown-none-elf; do
    cargo clippy -p picoformer --no-default-features --target "$target" -- -D warnings
done
# The Helium (MVE) kernels compile only where the target CPU has MVE: lint them for the
# Cortex-M55 (its own target directory, so the flag does not rebuild the other builds).
env CARGO_TARGET_THUMBV8M_MAIN_NONE_EABIHF_RUSTFLAGS="-C target-cpu=cortex-m55" CARGO_TARGET_DIR=target/clippy-m55 \
    cargo clippy -p picoformer -p picoformer-kernels --no-default-features \
    --target thumbv8m.main-none-eabihf -- -D warnings
# The engine is no_std and allocation-free: it must build for a bare Cortex-M4F.
cargo build -p picoformer --no-default-features --target thumbv7em-none-eabihf
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
cargo test --workspace 2>&1 | tee -a "$log"
# Every suite runs even after one fails, so the closing count covers them all; a suite
# that fails without printing its own failure count counts as one failure.
failed_parts=()
for part in tools/test.d/*.sh; do
    [ -e "$part" ] || continue
    echo "== $part"
    part_log=$(mktemp)
    set +e
    bash "$part" 2>&1 | tee "$part_log"
    status=${PIPESTATUS[0]}
    set -e
    cat "$part_log" >>"$log"
    if [ "$status" -ne 0 ]; then
        failed_parts+=("$part")
        grep -qE '^test result: FAILED|^[0-9]+ passed, [1-9][0-9]* failed' "$part_log" ||
            echo "0 passed, 1 failed" | tee -a "$log"
    fi
    rm -f "$part_log"
done
[ "${#failed_parts[@]}" -eq 0 ] || echo "failed suites: ${failed_parts[*]}"

# cargo prints "test result: ok. P passed; F failed; ..." per binary; the other suites
# print a plain "P passed, F failed" line each.
awk '/^test result:/ { p += $4; f += $6; next }
     /^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3 }
     END { printf "tests: %d passed, %d failed\n", p, f; exit (f > 0) }' "$log"
