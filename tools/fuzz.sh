#!/usr/bin/env bash
# Fuzzes the engine (not part of CI's default path): builds the cargo-fuzz targets of
# fuzz/ with nightly, AddressSanitizer, debug assertions and overflow checks, then runs
# each target for a fixed budget on its corpus (fuzz/corpus/<target>, seeded from
# fuzz/seeds/<target>) and prints the executions and crashes of each.
#   bash tools/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
# Targets: blob, blob_checksum, blob_mutate, convert, api (see fuzz/src/targets.rs). libFuzzer stops a
# target at its first crash, hang (> 10 s) or out-of-memory (> 2 GiB) and writes the
# input to fuzz/artifacts/<target>/: commit it to tests/fuzz_inputs/<target>/ with the
# fix (tests/fuzz_regressions.rs replays it) and run again.
set -uo pipefail
cd "$(dirname "$0")/.."
budget=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(blob blob_checksum blob_mutate convert api)

cargo_fuzz=target/tools/bin/cargo-fuzz
[ -x "$cargo_fuzz" ] || cargo install cargo-fuzz --locked --root target/tools
export RUSTUP_TOOLCHAIN=nightly
"$cargo_fuzz" build --fuzz-dir fuzz -O --debug-assertions >/dev/null 2>&1 ||
    "$cargo_fuzz" build --fuzz-dir fuzz -O --debug-assertions || exit 1

bin=fuzz/target/x86_64-unknown-linux-gnu/release
total_runs=0
total_crashes=0
summary=()
for t in "${targets[@]}"; do
    corpus=fuzz/corpus/$t
    artifacts=fuzz/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    seeds=()
    seed_dir=fuzz/seeds/${t/#blob_checksum/blob} # the checksum target starts from the blobs
    [ -d "$seed_dir" ] && seeds=("$seed_dir")
    before=$(ls "$artifacts" | wc -l)
    log=$(mktemp)
    "$bin/$t" -max_total_time="$budget" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" >"$log" 2>&1
    runs=$(awk -F: '/^stat::number_of_executed_units/ { gsub(/ /, "", $2); print $2 }' "$log" | tail -n 1)
    [ -n "$runs" ] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    runs=${runs:-0}
    crashes=$(($(ls "$artifacts" | wc -l) - before))
    if grep -qE '^==[0-9]+== ERROR|^SUMMARY: ' "$log" && [ "$crashes" -eq 0 ]; then crashes=1; fi
    line="fuzz $t: $runs executions in ${budget} s, $crashes crashes, corpus $(ls "$corpus" | wc -l) inputs"
    echo "$line"
    if [ "$crashes" -gt 0 ]; then
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -n 5
    fi
    summary+=("$line")
    total_runs=$((total_runs + runs))
    total_crashes=$((total_crashes + crashes))
    rm -f "$log"
done
echo "== $(date -u +%Y-%m-%d) rustc $(rustc +nightly --version | cut -d' ' -f2), $(nproc) cores"
printf '%s\n' "${summary[@]}"
echo "fuzz: $total_runs executions, $total_crashes crashes"
[ "$total_crashes" -eq 0 ]
