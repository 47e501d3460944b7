#!/usr/bin/env bash
# The C API: cbindgen (regenerates include/picoformer.h and checks that the committed one
# is current), the riscv32 target (the staticlib is built for it), the bare-metal Arm C
# toolchain and QEMU (the C firmware runs on mps2-an386). Idempotent; tolerant of
# tools/setup.d/20-firmware.sh having installed QEMU already.
set -euo pipefail
source "$(dirname "$0")/../setup-step.sh"
setup_part c-api
cd "$(dirname "$0")/../.."

# ---- Rust targets the C staticlib is built for
installed=$(rustup target list --installed)
for t in thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
    grep -qx "$t" <<<"$installed" || step "adding the Rust target $t" rustup target add "$t"
done

# ---- cbindgen, pinned, under target/tools (not on PATH; the test script calls it there)
CBINDGEN_VERSION=0.29.2
if ! target/tools/bin/cbindgen --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
    step "building cbindgen $CBINDGEN_VERSION (cargo install)" cargo install cbindgen --version "=$CBINDGEN_VERSION" --locked --root target/tools
fi

# ---- apt packages: gcc (host C, ASan/UBSan), the arm-none-eabi toolchain, QEMU
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi binutils-arm-none-eabi)
[ -e /usr/lib/arm-none-eabi/newlib/libc.a ] || need+=(libnewlib-arm-none-eabi)
if [ ${#need[@]} -gt 0 ]; then
    step "updating the package lists" $sudo apt-get update
    step "installing ${need[*]}" $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

# QEMU: plain `apt-get install qemu-system-arm` fails on these machines (the image's
# qemu-utils comes from bookworm-backports and conflicts with bookworm's QEMU 7.2), so
# every QEMU package comes from bookworm-backports (../shared/docs/toolchain.md).
if ! command -v qemu-system-arm >/dev/null; then
    list=/etc/apt/sources.list.d/bookworm-backports.sources
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$uri" | $sudo tee "$list" >/dev/null
    fi
    step "updating the package lists" $sudo apt-get update
    step "installing QEMU from bookworm-backports" $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        -t bookworm-backports qemu-system-arm qemu-system-misc qemu-user
fi
qemu-system-arm --version >/dev/null
arm-none-eabi-gcc --version >/dev/null
