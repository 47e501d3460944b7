#!/usr/bin/env bash
# Proves every SIMD path executes: the kernel property tests (every kernel set of the
# target, every dtype: kernels/tests/kernels_vs_scalar.rs) and the golden model tests run
# once per kernel with PICOFORMER_KERNEL forcing it (the forced-kernel tests fail if the
# kernel's member of a dtype did not run). Host: scalar, scalar-fma (the reference with the
# Arm kernels' fused llama attention), avx2, and avx512 when this CPU has it; aarch64 NEON under qemu-aarch64; the Cortex-M FPU kernel under qemu-arm
# (32-bit Arm Linux runs the same asm; on the boards it runs in the firmware suite);
# RISC-V Vector under qemu-riscv64 at VLEN 128 and 256 (the kernels strip-mine with the
# hardware's length).
set -euo pipefail
cd "$(dirname "$0")/../.."
kernel_tests=(-p picoformer-kernels --test forced --test kernels_vs_scalar)
kernels=(scalar scalar-fma)
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && kernels+=(avx2)
if grep -qw avx512f /proc/cpuinfo; then
    kernels+=(avx512)
else
    echo "note: this CPU has no AVX-512F: the avx512 kernel is built but not run here"
fi
for kernel in "${kernels[@]}"; do
    echo "== kernel $kernel (host)"
    PICOFORMER_KERNEL=$kernel cargo test -q "${kernel_tests[@]}"
    PICOFORMER_KERNEL=$kernel cargo test -q -p picoformer-cli --test golden
done
echo "== kernel neon (qemu-aarch64)"
PICOFORMER_KERNEL=neon cargo test -q --target aarch64-unknown-linux-gnu "${kernel_tests[@]}"
PICOFORMER_KERNEL=neon cargo test -q --target aarch64-unknown-linux-gnu -p picoformer-cli --no-default-features --test golden
echo "== kernel arm-fpu (qemu-arm)"
PICOFORMER_KERNEL=arm-fpu cargo test -q --target armv7-unknown-linux-gnueabihf "${kernel_tests[@]}"
PICOFORMER_KERNEL=arm-fpu cargo test -q --target armv7-unknown-linux-gnueabihf -p picoformer-cli --no-default-features --test golden
echo "== kernel rvv (qemu-riscv64, VLEN 128)"
PICOFORMER_KERNEL=rvv cargo test -q --target riscv64gc-unknown-linux-gnu "${kernel_tests[@]}"
PICOFORMER_KERNEL=rvv cargo test -q --target riscv64gc-unknown-linux-gnu -p picoformer-cli --no-default-features --test golden
echo "== kernel rvv (qemu-riscv64, VLEN 256)"
PICOFORMER_KERNEL=rvv CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUNNER="qemu-riscv64 -cpu rv64,v=true,vlen=256 -L /usr/riscv64-linux-gnu" \
    cargo test -q --target riscv64gc-unknown-linux-gnu "${kernel_tests[@]}"
