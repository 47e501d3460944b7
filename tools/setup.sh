#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh machine (idempotent).
# Rust comes from rustup on these machines; each part's script in tools/setup.d/ adds
# what that part needs (targets, QEMU, cross compilers, tools), in name order. Each step
# that installs something prints one line with the time since setup began
# (tools/setup-step.sh); on a machine that has everything, nothing is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup-step.sh
PICOFORMER_SETUP_STEPS=$(mktemp)
export PICOFORMER_SETUP_STEPS
trap 'rm -f "$PICOFORMER_SETUP_STEPS"' EXIT
for part in tools/setup.d/*.sh; do
    bash "$part" || { echo "setup: $part failed" >&2; exit 1; }
done
steps=$(wc -l <"$PICOFORMER_SETUP_STEPS")
[ "$steps" -eq 0 ] || echo "setup [$(setup_elapsed)] done: $steps steps"
