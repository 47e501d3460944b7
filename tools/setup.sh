#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh machine (idempotent).
# Rust comes from rustup on these machines; each part's script in tools/setup.d/ adds
# what that part needs (targets, QEMU, cross compilers, tools), in name order.
set -euo pipefail
cd "$(dirname "$0")/.."
for part in tools/setup.d/*.sh; do
    echo "setup: $part"
    bash "$part"
done
echo "setup: done"
