#!/usr/bin/env bash
# The aarch64 Linux check of the pretrained models (tools/test.d/45-aarch64.sh): the
# Rust target, the cross linker and qemu-user (QEMU from bookworm-backports: bookworm's
# own QEMU conflicts with the image's qemu-utils; see ../shared/docs/toolchain.md).
# Idempotent: each piece is installed only when missing.
set -euo pipefail
grep -qx aarch64-unknown-linux-gnu <<<"$(rustup target list --installed)" \
    || rustup target add aarch64-unknown-linux-gnu
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ ${#need[@]} -eq 0 ] && exit 0
if [ ! -e /etc/apt/sources.list.d/bookworm-backports.sources ] \
    && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" > /etc/apt/sources.list.d/bookworm-backports.sources
fi
apt-get update -qq
for pkg in "${need[@]}"; do
    if [ "$pkg" = qemu-user ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-user
    else
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg"
    fi
done
