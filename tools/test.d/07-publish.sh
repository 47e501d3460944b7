#!/usr/bin/env bash
# The two library crates are ready to publish: `cargo publish --dry-run` packages
# picoformer-kernels and picoformer together (picoformer is verified against the packaged
# kernels, as crates.io would build it) and builds them from their packages; the package
# must hold the files its examples and doc tests load. Needs the crates.io index (network).
# Prints "N passed, N failed" for tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
passed=0
failed=0
result() { # name, status
    if [ "$2" -eq 0 ]; then
        echo "test publish_$1 ... ok" && passed=$((passed + 1))
    else
        echo "test publish_$1 ... FAILED" && failed=$((failed + 1))
    fi
}
# Cargo verifies picoformer against the kernels it just packaged through a local registry
# under target/package/tmp-registry, and unpacks that crate into
# $CARGO_HOME/registry/src/<hash of that path>/ only once: a later run with the same version
# builds against the first run's stale sources (a fresh clone at a path used before fails
# with functions "not found"). Our crates are not on crates.io, so every unpacked copy of
# them there is one of ours; remove them so the check always sees the tree as it is.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/picoformer-kernels-* \
    "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/picoformer-[0-9]*
# --allow-dirty: a working tree with changes is checked as it is (CI's clone is clean).
cargo publish --dry-run --allow-dirty -p picoformer-kernels -p picoformer 2>&1 | grep -v '^ *Compiling '
result dry_run_of_kernels_and_engine "${PIPESTATUS[0]}"
list=$(cargo package --list --allow-dirty -p picoformer 2>/dev/null)
status=0
for file in README.md LICENSE-MIT LICENSE-APACHE models/dates/dates.pfm examples/greedy.rs src/lib.rs; do
    grep -qx "$file" <<<"$list" || { echo "picoformer's package lacks $file"; status=1; }
done
# the licence texts the `license` field names ship with each crate (MIT OR Apache-2.0)
kernels_list=$(cargo package --list --allow-dirty -p picoformer-kernels 2>/dev/null)
for file in LICENSE-MIT LICENSE-APACHE; do
    grep -qx "$file" <<<"$kernels_list" || { echo "picoformer-kernels' package lacks $file"; status=1; }
done
# and nothing of the repository beyond the crate (test data, firmware, tools)
! grep -qE '^(tests|targets|tools|cli|fuzz)/' <<<"$list" || { echo "picoformer's package holds repository files"; status=1; }
result package_holds_what_the_crate_needs "$status"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
