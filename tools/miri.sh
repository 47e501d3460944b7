#!/usr/bin/env bash
# Miri on the scalar path (not part of CI's default path: about 5 minutes on 2 cores):
# the kernels' and the engine's unit tests, and tests/miri.rs, which drives every Rust
# and C entry point on tiny models with valid and broken arguments. Under Miri the
# kernel dispatcher always picks the scalar reference (Miri runs no SIMD intrinsics).
#   bash tools/miri.sh [--write DOC]
# --write DOC (docs/hardening.md): the run's figures (tests per command, time, date,
# rustc) replace DOC's `<!-- miri:figures -->` section (written only when all pass).
set -euo pipefail
cd "$(dirname "$0")/.."
doc=""
[ "${1:-}" = --write ] && doc=${2:?--write needs a file}
rustup component list --toolchain nightly --installed | grep -q '^miri' ||
    rustup component add --toolchain nightly miri rust-src
rows=()
for args in "-p picoformer-kernels --lib" "-p picoformer --lib" "-p picoformer-cli --test miri"; do
    start=$(date +%s)
    log=$(mktemp)
    set +e
    # shellcheck disable=SC2086 # the arguments are words
    cargo +nightly miri test $args >"$log" 2>&1
    status=$?
    set -e
    grep -E '^test result|^error' "$log" || true
    passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^passed/) n += $i } END { print n + 0 }' "$log")
    failed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^failed/) n += $i } END { print n + 0 }' "$log")
    rm -f "$log"
    [ "$status" -eq 0 ] || { echo "miri: cargo +nightly miri test $args failed" >&2; exit 1; }
    elapsed=$(($(date +%s) - start))
    rows+=("| \`cargo +nightly miri test $args\` | $passed passed, $failed failed | $((elapsed / 60)) min $((elapsed % 60)) s |")
done
report() {
    echo "<!-- miri:figures -->"
    echo "| command | tests | time (build included) |"
    echo "|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Last run $(date -u +%Y-%m-%d), rustc $(rustc +nightly --version | cut -d' ' -f2-3 | tr -d '('), $(nproc) cores: no undefined behaviour reported."
    echo "<!-- /miri:figures -->"
}
report
if [ -n "$doc" ]; then
    report | bash tools/firmware-doc.sh write "$doc" && echo "miri: wrote the figures into $doc"
fi
