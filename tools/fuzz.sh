#!/usr/bin/env bash
# Fuzzes the engine and the converters (not part of CI's default path): builds the
# cargo-fuzz targets of fuzz/ with nightly, AddressSanitizer, debug assertions and overflow
# checks, then runs each target, one after another, on its corpus (fuzz/corpus/<target>,
# seeded from fuzz/seeds/<target>), minimises the corpus (libFuzzer -merge=1) and records
# the run in fuzz/stats/<target>.tsv.
#
#   bash tools/fuzz.sh [--runs N] [--seconds S] [--write DOC] [TARGET...]
#   bash tools/fuzz.sh SECONDS [TARGET...]       (as --seconds SECONDS)
#   bash tools/fuzz.sh --report [--write DOC]    the recorded runs' table, nothing is run
#   bash tools/fuzz.sh --check DOC               cheap (CI, tools/test.d/05-docs.sh): DOC's
#                                                section has this script's table header and
#                                                a row for every target
#
#   --runs N      stop each target after N executions (libFuzzer -runs)
#   --seconds S   stop each target after S seconds (-max_total_time); with --runs, a cap.
#                 Default without --runs: 60.
#   --write DOC   replace the `<!-- fuzz:figures -->` section of DOC (docs/hardening.md),
#                 and nothing outside it, with the table of the recorded runs (fuzz/stats/,
#                 latest run per target; a target without a record keeps its row)
#
# Targets: blob, blob_checksum, blob_mutate, convert, api, llama2c, hf_llama, wav,
# tokenizer (see fuzz/src/targets.rs). libFuzzer stops a target at its first crash, hang
# (> 10 s) or out-of-memory (> 2 GiB) and writes the input to fuzz/artifacts/<target>/:
# commit it to tests/fuzz_inputs/<target>/ with the fix (cli/tests/fuzz_regressions.rs
# replays it) and run again. The script exits non-zero when a target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
all_targets=(blob blob_checksum blob_mutate convert api llama2c hf_llama wav tokenizer)

runs=""
seconds=""
doc=""
report_only=0
check_doc=""
targets=()
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --write) doc=$2; shift 2 ;;
    --report) report_only=1; shift ;;
    --check) check_doc=$2; shift 2 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    [0-9]*) seconds=$1; shift ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done
[ -n "$runs" ] || seconds=${seconds:-60}
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
stats=fuzz/stats

# The figures section of DOC as it stands (empty without DOC or section).
doc_section() { # doc
    [ -n "$1" ] && [ -f "$1" ] || return 0
    sed -n '/^<!-- fuzz:figures -->$/,/^<!-- \/fuzz:figures -->$/p' "$1"
}

# The recorded runs as the docs page's section (latest run of each target, in the order
# of all_targets). A target without a record here (fuzz/stats/ is not committed: a fresh
# clone, another worktree) keeps its row from DOC's section, so writing one target's run
# never drops the others'; a target with neither is left out.
report() { # [doc]
    local previous t row rows=()
    previous=$(doc_section "${1:-}")
    for t in "${all_targets[@]}"; do
        if [ -f "$stats/$t.tsv" ]; then
            row=$(awk -F'\t' -v t="$t" '
                function thousands(n,   s, out, i, k) {
                    s = sprintf("%d", n); out = ""; k = 0
                    for (i = length(s); i > 0; i--) { out = substr(s, i, 1) out; if (++k % 3 == 0 && i > 1) out = "," out }
                    return out
                }
                { printf "| `%s` | %s | %d min %02d s | %s | %d | %s inputs | %s | %s |\n", t, thousands($1), int($2 / 60), $2 % 60, thousands($2 > 0 ? $1 / $2 : 0), $3, thousands($4), $5, $6 }
            ' "$stats/$t.tsv")
        else
            row=$(grep -m1 "^| \`$t\` |" <<<"$previous")
        fi
        [ -n "$row" ] && rows+=("$row")
    done
    echo "<!-- fuzz:figures -->"
    echo "| target | executions | time | executions/s | crashes | corpus after -merge=1 | date | rustc |"
    echo "|---|---|---|---|---|---|---|---|"
    local goal=10000000 reached=0 executions
    for row in "${rows[@]}"; do
        echo "$row"
        executions=$(awk -F'|' '{ gsub(/[ ,]/, "", $3); print $3 }' <<<"$row")
        [ "${executions:-0}" -ge "$goal" ] && reached=$((reached + 1))
    done
    echo
    echo "Targets at or past the goal of 10,000,000 executions: $reached of ${#rows[@]} (a run capped by \`--seconds\` stops short of it)."
    echo "<!-- /fuzz:figures -->"
}

# DOC with its figures section left out: what --write must leave as it was.
outside_section() { # doc
    sed '/^<!-- fuzz:figures -->$/,/^<!-- \/fuzz:figures -->$/d' "$1"
}

write_report() {
    if [ -n "$doc" ]; then
        local before
        before=$(outside_section "$doc")
        report "$doc" | bash tools/firmware-doc.sh write "$doc" || exit 1
        # Only the section between the markers may change (the targets' description
        # table above it has rows that start like the figures' rows).
        if [ "$(outside_section "$doc")" != "$before" ]; then
            echo "fuzz: writing $doc changed text outside its fuzz:figures section" >&2
            exit 1
        fi
        echo "fuzz: wrote the recorded runs into $doc"
    else
        report
    fi
}

if [ -n "$check_doc" ]; then
    section=$(sed -n '/^<!-- fuzz:figures -->$/,/^<!-- \/fuzz:figures -->$/p' "$check_doc")
    header=$(report | sed -n 2p)
    missing=0
    grep -qxF "$header" <<<"$section" || { echo "fuzz: $check_doc: no fuzz:figures section with the header \"$header\"" >&2; missing=1; }
    for bin in $(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -vx picoformer-fuzz); do
        [[ " ${all_targets[*]} " == *" $bin "* ]] || { echo "fuzz: target $bin of fuzz/Cargo.toml is missing from this script's all_targets" >&2; missing=1; }
    done
    outside=$(outside_section "$check_doc")
    for t in "${all_targets[@]}"; do
        # figures: one row of 8 cells; description (outside the section): one of 2 cells
        [ "$(grep "^| \`$t\` |" <<<"$section" | awk -F'|' 'NF == 10' | wc -l)" -eq 1 ] || { echo "fuzz: $check_doc has no recorded run of target $t (bash tools/fuzz.sh --runs 10000000 --write $check_doc $t)" >&2; missing=1; }
        [ "$(grep "^| \`$t\` |" <<<"$outside" | awk -F'|' 'NF == 4' | wc -l)" -eq 1 ] || { echo "fuzz: $check_doc: the table of what each target feeds has no row for $t (or a figures row in its place)" >&2; missing=1; }
    done
    if [ "$missing" -eq 0 ]; then echo "test fuzz_figures_cover_every_target ... ok"; else echo "test fuzz_figures_cover_every_target ... FAILED"; fi
    exit "$missing"
fi

if [ "$report_only" -eq 1 ]; then
    write_report
    exit
fi

cargo_fuzz=target/tools/bin/cargo-fuzz
[ -x "$cargo_fuzz" ] || cargo install cargo-fuzz --locked --root target/tools
export RUSTUP_TOOLCHAIN=nightly
"$cargo_fuzz" build --fuzz-dir fuzz -O --debug-assertions >/dev/null 2>&1 ||
    "$cargo_fuzz" build --fuzz-dir fuzz -O --debug-assertions || exit 1
rustc_version=$(rustc +nightly --version | cut -d' ' -f2-3 | tr -d '(')

bin=fuzz/target/x86_64-unknown-linux-gnu/release
# Largest input libFuzzer makes per target (-max_len; its default is the largest seed
# or 4096): above what a target reads (blob_mutate: 16 edits of up to 7 bytes; api: one
# call's arguments) or its largest seed, a longer input only costs time.
declare -A max_len=([blob]=10240 [blob_checksum]=10240 [blob_mutate]=128 [convert]=8192
    [api]=256 [llama2c]=8192 [hf_llama]=8192 [wav]=4096 [tokenizer]=4096)
limits=()
[ -n "$runs" ] && limits+=(-runs="$runs")
[ -n "$seconds" ] && limits+=(-max_total_time="$seconds")
total_runs=0
total_crashes=0
mkdir -p "$stats"
for t in "${targets[@]}"; do
    [ -x "$bin/$t" ] || { echo "fuzz.sh: no target $t (targets: ${all_targets[*]})" >&2; exit 2; }
    corpus=fuzz/corpus/$t
    artifacts=fuzz/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    seeds=()
    seed_dir=fuzz/seeds/${t/#blob_checksum/blob} # the checksum target starts from the blobs
    [ -d "$seed_dir" ] && seeds=("$seed_dir")
    before=$(ls "$artifacts" | wc -l)
    log=$stats/$t.log # kept (not committed) for a look at what the run printed
    start=$(date +%s)
    "$bin/$t" "${limits[@]}" -max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" >"$log" 2>&1
    elapsed=$(($(date +%s) - start))
    executed=$(awk '/^stat::number_of_executed_units/ { print $2 }' "$log" | tail -n 1)
    [ -n "$executed" ] || executed=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    executed=${executed:-0}
    crashes=$(($(ls "$artifacts" | wc -l) - before))
    # No final statistics: libFuzzer was killed (the machine's out-of-memory killer, a
    # signal), which is a failed run too.
    if [ "$crashes" -eq 0 ] && ! grep -q '^stat::number_of_executed_units' "$log"; then
        echo "fuzz $t: libFuzzer printed no final statistics (killed?); see $log" >&2
        crashes=1
    fi
    if grep -qE '^==[0-9]+== ERROR|^SUMMARY: ' "$log" && [ "$crashes" -eq 0 ]; then crashes=1; fi
    if [ "$crashes" -gt 0 ]; then
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -n 5
    fi
    # The corpus minimised: the smallest subset with the same coverage replaces it.
    minimised=$(mktemp -d)
    "$bin/$t" -merge=1 -timeout=10 -rss_limit_mb=2048 "$minimised" "$corpus" >/dev/null 2>&1 &&
        rm -rf "$corpus" && mv "$minimised" "$corpus" || rm -rf "$minimised"
    kept=$(ls "$corpus" | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$executed" "$elapsed" "$crashes" "$kept" \
        "$(date -u +%Y-%m-%d)" "$rustc_version" >"$stats/$t.tsv"
    echo "fuzz $t: $executed executions in $elapsed s, $crashes crashes, corpus $kept inputs after -merge=1"
    total_runs=$((total_runs + executed))
    total_crashes=$((total_crashes + crashes))
done
echo "== $(date -u +%Y-%m-%d) rustc $rustc_version, $(nproc) cores"
echo "fuzz: $total_runs executions, $total_crashes crashes"
write_report
[ "$total_crashes" -eq 0 ]
