#!/usr/bin/env bash
# SIMD kernels: the aarch64 and armv7 Linux targets, their cross linkers and qemu-user,
# so the NEON kernels are tested under qemu-aarch64, the Arm FPU (Cortex-M) kernel
# under qemu-arm and the RISC-V Vector kernels under qemu-riscv64 (QEMU from
# bookworm-backports: plain apt fails here).
# Idempotent; the dpkg lock timeouts let it run beside the other parts' setup scripts.
set -euo pipefail
source "$(dirname "$0")/../setup-step.sh"
setup_part simd
installed=$(rustup target list --installed)
for t in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf riscv64gc-unknown-linux-gnu; do
    grep -qx "$t" <<<"$installed" || step "adding the Rust target $t" rustup target add "$t"
done
if ! { command -v qemu-aarch64 && command -v qemu-arm && command -v qemu-riscv64 \
        && command -v aarch64-linux-gnu-gcc && command -v arm-linux-gnueabihf-gcc \
        && command -v riscv64-linux-gnu-gcc; } >/dev/null; then
    backports=/etc/apt/sources.list.d/bookworm-backports.sources
    if [ ! -f "$backports" ]; then
        uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$uri" >"$backports"
    fi
    step "updating the package lists" apt-get update -qq -o DPkg::Lock::Timeout=600
    step "installing qemu-user from bookworm-backports" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=600 -t bookworm-backports qemu-user
    step "installing the aarch64, armhf and riscv64 Linux cross compilers" \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=600 gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
        gcc-arm-linux-gnueabihf libc6-dev-armhf-cross gcc-riscv64-linux-gnu \
        libc6-dev-riscv64-cross
fi
