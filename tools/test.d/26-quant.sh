#!/usr/bin/env bash
# Quantized weights (issue 6): proves every integer kernel executes and matches its scalar
# twin, and the quantized firmware runs on the boards.
# - The f16 and int8 property tests (kernels/tests/kernels_vs_scalar.rs and forced.rs,
#   the tests named f16/i8) once per forced kernel: scalar and avx2 on the host, SDOT
#   under qemu-aarch64 (neon), SMLAD and the FPU f16 kernel (vcvtb/vcvtt) under qemu-arm
#   (arm-fpu), the RVV int8 kernel (vwmul + vwredsum) under qemu-riscv64 at VLEN 128 and
#   256 (rvv; its f16 products are the scalar reference's); each run fails if the forced
#   kernel's int8 member did not serve the int8 calls, or its f16 member the f16
#   product. The accuracy test (tests/quantized.rs) runs with each host kernel too (int8
#   results are bit-identical across kernels, so its figures do not move).
# - The firmware suite with int8 and f16 weights on mps2-an386 (Cortex-M4F: SMLAD, FPU
#   vcvtb/vcvtt), with int8 weights on mps2-an505 (Cortex-M33 built with
#   -C target-cpu=cortex-m33: SMLAD), on mps3-an547 (Cortex-M55 built with
#   -C target-cpu=cortex-m55: Helium) and on virt-rvv (riscv32imafc built with
#   -C target-feature=+zve32f: RVV vwmul + vwredsum), each checking the dispatched int8
#   and f16 kernels against their scalar twins (the f16 one must be the active f32
#   kernel's twin and must have run) and the model's outputs against the host engine's
#   for the same quantized blob.
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
echo "== quantized kernels: rvv (qemu-riscv64, VLEN 128)"
PICOFORMER_KERNEL=rvv cargo test -q --target riscv64gc-unknown-linux-gnu "${quant_tests[@]}" -- f16 i8
echo "== quantized kernels: rvv (qemu-riscv64, VLEN 256)"
PICOFORMER_KERNEL=rvv CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUNNER="qemu-riscv64 -cpu rv64,v=true,vlen=256 -L /usr/riscv64-linux-gnu" \
    cargo test -q --target riscv64gc-unknown-linux-gnu "${quant_tests[@]}" -- f16 i8

failed=()
run() { # dtype, board, target, target dir, rustflags, firmware crate (default cortex-m)
    local dtype=$1 board=$2 target=$3 dir=$4 flags=$5 crate=${6:-cortex-m} log status
    local flags_var
    flags_var=CARGO_TARGET_$(tr 'a-z.-' 'A-Z__' <<<"$target")_RUSTFLAGS
    echo "== firmware $board, $dtype weights"
    (cd "targets/$crate" && env "$flags_var=$flags" PICOFORMER_FIRMWARE_DTYPE="$dtype" \
        CARGO_TARGET_DIR="$dir" cargo build -q --release --target "$target" --bin "$board")
    log=$(mktemp)
    set +e
    bash "targets/$crate/qemu-run.sh" "$dir/$target/release/$board" | tee "$log"
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
rvv_flags="-C target-feature=+zve32f"
run i8 virt-rvv riscv32imafc-unknown-none-elf "$root/target/firmware-rvv" "$rvv_flags" riscv
# Leave the default (f32) builds in place for the other scripts.
(cd targets/cortex-m && cargo build -q --release --target thumbv7em-none-eabihf --bin mps2-an386)
(cd targets/riscv && CARGO_TARGET_RISCV32IMAFC_UNKNOWN_NONE_ELF_RUSTFLAGS="$rvv_flags" \
    cargo build -q --release --target riscv32imafc-unknown-none-elf \
    --target-dir "$root/target/firmware-rvv" --bin virt-rvv)
if [ "${#failed[@]}" -ne 0 ]; then
    echo "quantized firmware failed: ${failed[*]}"
    exit 1
fi
