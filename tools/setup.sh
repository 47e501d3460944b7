#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh machine (idempotent).
# Rust comes from rustup on these machines; this adds the cross targets and components.
set -euo pipefail

targets=(thumbv7em-none-eabihf)
installed=$(rustup target list --installed)
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
components=$(rustup component list --installed)
for c in clippy rustfmt; do
    grep -q "^$c" <<<"$components" || rustup component add "$c"
done
echo "setup: rust targets and components ready"
