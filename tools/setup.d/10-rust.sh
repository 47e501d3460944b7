#!/usr/bin/env bash
# Rust cross targets and components for the engine's no_std build and the lints.
set -euo pipefail
source "$(dirname "$0")/../setup-step.sh"
setup_part rust
targets=(thumbv7em-none-eabihf)
installed=$(rustup target list --installed)
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" || step "adding the Rust target $t" rustup target add "$t"
done
components=$(rustup component list --installed)
for c in clippy rustfmt; do
    grep -q "^$c" <<<"$components" || step "adding the Rust component $c" rustup component add "$c"
done
