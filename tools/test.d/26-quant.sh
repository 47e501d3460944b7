#!/usr/bin/env bash
# Quantized weights (issue 6): proves every integer kernel executes and matches its scalar
# twin, and the quantized firmware runs on the boards.
# - The f16 and int8 property tests (kernels/tests/kernels_vs_scalar.rs and forced.rs,
#   the tests named f16/i8) once per forced kernel: scalar and avx2 on the host, SDOT
#   under qemu-aarch64 (neon), SMLAD and the FPU f16 kernel (vcvtb/vcvtt) under qemu-arm
#   (arm-fpu); each run fails if the forced kernel's int8 member did not serve the int8
#   calls, or its f16 member the f16 product. The accuracy test
#   (tests/quantized.rs) runs with each host kernel too (int8 results are bit-identical
#   across kernels, so its figures do not move).
# - The firmware suite with int8 and f16 weights on mps2-an386 (Cortex-M4F: SMLAD, FPU
#   vcvtb/vcvtt), with int8 weights on mps2-an505 (Cortex-M33 built with
#   -C target-cpu=cortex-m33: SMLAD), and on mps3-an547 (Cortex-M55 built with
#   -C target-cpu=cortex-m55: Helium), each checking the dispatched int8 and f16 kernels against their scalar twins
#   (the f16 one must be the active f32 kernel's twin and must have run) and the model's
#   outputs against the host engine's for the same quantized blob.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
quant_tests=(-p picoformer-kernels --test forced --test kernels_vs_scalar)
kernels=(scalar)
grep -qw avx2 /proc/cpuinfo && kernels+=(avx2)
for kernel in "${kernels[@]}"; do
    echo "== quantized kernels: $kernel (host)"
    PICOFORMER_KERNEL=$kernel cargo test -q "${quant_tests[@]}" -- f16 i8
    PICOFORMER_KERNEL=$kernel cargo test -q -p picoformer-cli --test quantized
done
echo "== quantized kernels: sdot (qemu-aarch64)"
PICOFORMER_KERNEL=neon cargo test -q --target aarch64-unknown-linux-gnu "${quant_tests[@]}" -- f16 i8
echo "== quantized kernels: smlad (qemu-arm)"
PICOFORMER_KERNEL=arm-fpu cargo test -q --target armv7-unknown-linux-gnueabihf "${quant_tests[@]}" -- f16 i8

failed=()
run() { # dtype, board, target, target dir, rustflags
    local dtype=$1 board=$2 target=$3 dir=$4 flags=$5 log status
    local flags_var
    flags_var=CARGO_TARGET_$(tr 'a-z.-' 'A-Z__' <<<"$target")_RUSTFLAGS
    echo "== firmware $board, $dtype weights"
    (cd targets/cortex-m && env "$flags_var=$flags" PICOFORMER_FIRMWARE_DTYPE="$dtype" \
        CARGO_TARGET_DIR="$dir" cargo build -q --release --target "$target" --bin "$board")
    log=$(mktemp)
    set +e
    bash targets/cortex-m/qemu-run.sh "$dir/$target/release/$board" | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ]; then
        failed+=("$board/$dtype")
        grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log" || echo "0 passed, 1 failed"
    fi
    rm -f "$log"
}
run i8 mps2-an386 thumbv7em-none-eabihf "$root/target/firmware" ""
run f16 mps2-an386 thumbv7em-none-eabihf "$root/target/firmware" ""
run i8 mps2-an505 thumbv8m.main-none-eabihf "$root/target/firmware-m33" "-C target-cpu=cortex-m33"
run i8 mps3-an547 thumbv8m.main-none-eabihf "$root/target/firmware-m55" "-C target-cpu=cortex-m55"
run f16 mps3-an547 thumbv8m.main-none-eabihf "$root/target/firmware-m55" "-C target-cpu=cortex-m55"
# Leave the default (f32) build in place for the other scripts.
(cd targets/cortex-m && cargo build -q --release --target thumbv7em-none-eabihf --bin mps2-an386)
if [ "${#failed[@]}" -ne 0 ]; then
    echo "quantized firmware failed: ${failed[*]}"
    exit 1
fi
