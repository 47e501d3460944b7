#!/usr/bin/env bash
# Firmware under QEMU: the bare-metal Rust targets, llvm-tools (sizes), QEMU 10, the QEMU
# TCG plugin header with glib and gcc (our instruction-count plugin), defmt-print (logs).
# Idempotent: every step checks first, so a machine that has everything passes in seconds.
# The dpkg lock timeouts let it run beside the other parts' setup scripts.
set -euo pipefail
source "$(dirname "$0")/../setup-step.sh"
setup_part firmware
cd "$(dirname "$0")/../.."
tools=$PWD/target/tools
mkdir -p "$tools"

# riscv32imafc: the rv32 board with the vector extension (hardware float + Zve32f)
targets=(thumbv6m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf riscv32imac-unknown-none-elf
    riscv32imafc-unknown-none-elf)
installed=$(rustup target list --installed)
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" || step "adding the Rust target $t" rustup target add "$t"
done
rustup component list --installed | grep -q '^llvm-tools' || step "adding the Rust component llvm-tools" rustup component add llvm-tools

# QEMU must come from bookworm-backports: the image already carries backports' qemu-utils
# 10.x, which conflicts with bookworm's qemu 7.2 (a plain apt-get install fails).
backports=/etc/apt/sources.list.d/bookworm-backports.sources
add_backports() {
    [ -f "$backports" ] && grep -q deb-src "$backports" && return
    # the same mirror as the machine's own Debian source; deb-src for the plugin header
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources) || return
    printf 'Types: deb deb-src\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" >"$backports" || return
    apt-get update -qq -o DPkg::Lock::Timeout=600
}
if ! { command -v qemu-system-arm && command -v qemu-system-riscv32 \
        && pkg-config --exists glib-2.0 && command -v gcc; } >/dev/null; then
    step "adding the bookworm-backports package source" add_backports
    step "installing QEMU 10 (qemu-system-arm, qemu-system-riscv) from bookworm-backports" \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
        -t bookworm-backports qemu-system-arm qemu-system-riscv
    # glib: qemu-plugin.h includes <glib.h>
    step "installing gcc and glib's headers (for the instruction-count plugin)" \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
        gcc libc6-dev libglib2.0-dev pkg-config
fi
qemu-system-arm --version >/dev/null

# No binary Debian package ships qemu-plugin.h (QEMU builds it into the binaries and
# installs it only from source): take it from the source package of the installed QEMU.
plugin_header() { # run as a step: returns its failures itself (no `set -e` there)
    add_backports || return
    work=$(mktemp -d) || return
    # Only the upstream tarball is needed; the mirror may lack the Debian .dsc, which makes
    # apt-get report failure after fetching the tarball.
    (cd "$work" && apt-get source --download-only -qq -t bookworm-backports qemu || true)
    orig=$(ls "$work"/qemu_*.orig.tar.xz) &&
        mkdir -p "$tools/include" &&
        tar -xJf "$orig" -C "$work" --wildcards '*/include/qemu/qemu-plugin.h' &&
        cp "$work"/qemu-*/include/qemu/qemu-plugin.h "$tools/include/" || return
    rm -rf "$work"
}
if [ ! -f "$tools/include/qemu-plugin.h" ]; then
    step "taking qemu-plugin.h from QEMU's source package" plugin_header
fi

# defmt-print decodes the firmware's defmt frames; under target/ so CI caches it.
if [ ! -x "$tools/bin/defmt-print" ]; then
    step "building defmt-print (cargo install, a few minutes)" cargo install defmt-print --locked --root "$tools"
fi
